"""IPython lines in a step's cell: timing magics are kept as plain Python, the rest is refused by line."""

from __future__ import annotations

import pytest

from jupyter_mlops.analysis.cell import analyze_cell
from jupyter_mlops.errors import CellError


def python_of(source: str) -> str:
    return analyze_cell(source, cell="train").source


def refusal(source: str, first_line: int = 1) -> CellError:
    with pytest.raises(CellError) as raised:
        analyze_cell(source, cell="train", first_line=first_line)
    assert raised.value.cell == "train"
    return raised.value


def test_plain_python_is_unchanged() -> None:
    assert python_of("x = 1\ny = x + 1\n") == "x = 1\ny = x + 1\n"


def test_time_line_magic_keeps_the_statement() -> None:
    analysis = analyze_cell("%time model = fit(X, y)\n", cell="train")
    assert analysis.source == "model = fit(X, y)\n"
    assert analysis.binds == {"model"}
    assert analysis.reads == {"fit", "X", "y"}


def test_timeit_line_magic_drops_its_options() -> None:
    assert python_of("%timeit -n 3 -r2 f(x)\n") == "f(x);\n"


def test_timed_last_line_is_the_result_only_when_the_kernel_shows_one() -> None:
    # `%time f(x)` shows f(x)'s value in the kernel; `%timeit` and `%%timeit` show none.
    assert analyze_cell("a = 1\n%time a + 1\n", cell="t").last_expression == "a + 1"
    assert analyze_cell("%%time\na = 1\na + 1\n", cell="t").last_expression == "a + 1"
    quiet = ("a = 1\n%timeit a + 1\n", "a = 1\n%timeit -n1 a.sum()  # fast\n", "%%timeit\na = 1\na + 1\n")
    for source in quiet:
        analysis = analyze_cell(source, cell="t")
        assert analysis.last_expression is None, (source, analysis.source)
    assert python_of("%timeit a.sum()  # fast\n") == "a.sum();  # fast\n"
    assert python_of("%timeit for i in r: f(i)\n") == "for i in r: f(i)\n"


def test_time_magic_used_as_a_value_keeps_the_expression() -> None:
    assert python_of("x = %time f(1)\n") == "x = (f(1))\n"


def test_time_magic_inside_a_block_keeps_indentation() -> None:
    assert python_of("if a:\n    %time b = 1\n") == "if a:\n    b = 1\n"


def test_time_magic_around_a_compound_statement() -> None:
    assert python_of("%time for i in range(3): total = i\n") == "for i in range(3): total = i\n"


def test_time_cell_magic_keeps_the_body_and_its_line_numbers() -> None:
    analysis = analyze_cell("%%time\nx = 1\ny = f(x)\n", cell="train")
    assert analysis.source.splitlines() == ["", "x = 1", "y = f(x)"]
    assert analysis.read_lines == {"f": 3}


def test_timeit_cell_magic_keeps_its_setup_statement() -> None:
    assert python_of("%%timeit -n1 z = 3\nx = z\n").splitlines() == ["z = 3", "x = z"]
    assert python_of("%%timeit -n1 -r 2\nx = 3\n").splitlines() == ["", "x = 3"]  # options only


def test_continued_magic_line_maps_later_lines_back() -> None:
    analysis = analyze_cell("x = 1\n%time y = \\\n  2\nz = w\n", cell="train")
    assert analysis.binds == {"x", "y", "z"}
    assert analysis.read_lines == {"w": 4}


def test_shell_pip_install_is_refused_naming_the_line() -> None:
    error = refusal("x = 1\n!pip install numpy\ny = 2\n")
    assert error.line == 2
    assert "!pip install numpy" in str(error)
    assert "(%%component NAME --packages numpy,pandas)" in str(error)
    assert "(%%pipeline setup --packages numpy,pandas)" in str(error)  # a setup cell's own way


def test_pip_magic_is_refused_with_the_packages_advice() -> None:
    error = refusal("%pip install pandas\n")
    assert error.line == 1
    assert "%pip install pandas" in str(error)
    assert "--packages" in str(error)


def test_conda_magic_is_refused() -> None:
    assert "--packages" in str(refusal("%conda install scipy\n"))


def test_shell_command_is_refused_with_subprocess_advice() -> None:
    error = refusal("files = !ls data\n")
    assert "files = !ls data" in str(error)
    assert "subprocess.run" in str(error)


def test_shell_command_inside_a_function_is_refused_at_its_line() -> None:
    assert refusal("def f():\n    !ls\n").line == 2


def test_timing_a_shell_command_is_still_a_shell_command() -> None:
    assert "shell commands" in str(refusal("%time !ls\n"))


def test_other_line_magics_are_refused() -> None:
    error = refusal("%who_ls\nx = 1\n")
    assert "%who_ls" in str(error)
    assert "plain cell" in str(error)


# -- issue 9, item 7: display-only lines are left out with a note; lines that change what the code does
# are refused with what to do instead.

DISPLAY_ONLY = [
    "%matplotlib inline",
    "%matplotlib widget",
    "%config InlineBackend.figure_format = 'retina'",
    "%load_ext autoreload",
    "%autoreload 2",
    "%reload_ext autoreload",
    "%aimport helpers",
    "%precision 3",
    "%xmode Minimal",
    "%pprint",
]


@pytest.mark.parametrize("line", DISPLAY_ONLY)
def test_a_display_only_line_is_left_out_of_the_step_with_a_note(line: str) -> None:
    analysis = analyze_cell(f"import numpy as np\n{line}\nx = np.ones(2)\n", cell="train", first_line=2)
    assert "get_ipython" not in analysis.source and "x = np.ones(2)" in analysis.source
    assert analysis.source.splitlines()[1].strip() in ("", "pass")  # line numbers stay the user's
    assert analysis.binds == {"np", "x"}
    ((note_line, message),) = analysis.notes
    assert note_line == 3
    assert line.split()[0] in message and "left out of the step" in message


def test_the_tutorial_import_cell_keeps_its_imports_and_notes_each_dropped_line() -> None:
    cell = (
        "%matplotlib inline\n%config InlineBackend.figure_format = 'retina'\n%load_ext autoreload\n"
        "%autoreload 2\nimport math\nif True:\n    %matplotlib inline\n"
    )
    analysis = analyze_cell(cell, cell="%%pipeline setup", first_line=2)
    assert analysis.imports == {"math": "math"}
    assert [line for line, _ in analysis.notes] == [2, 3, 4, 5, 8]
    compile(analysis.source, "<step>", "exec")  # the `if` keeps a body


def test_a_display_only_magic_used_as_a_value_is_still_refused() -> None:
    assert "%config" in str(refusal("c = %config InlineBackend\n"))


@pytest.mark.parametrize(
    ("line", "advice"),
    [
        ("%cd data", "os.chdir"),
        ("%env MODE=fast", "os.environ"),
        ("%run helpers.py", "%%pipeline setup"),
        ("%pylab inline", "import"),
    ],
)
def test_a_line_that_changes_what_the_code_does_is_refused_with_what_to_do(line: str, advice: str) -> None:
    error = refusal(f"x = 1\n{line}\n")
    assert error.line == 2 and line in str(error) and advice in str(error), str(error)


def test_other_cell_magics_are_refused() -> None:
    error = refusal("%%bash\nls\n")
    assert error.line == 1
    assert "%%bash" in str(error)


@pytest.mark.parametrize(
    "line", ["len?", "len??", "?len", "df.merge?", "np.*rand*?", "%pinfo len", "%pdoc len"]
)
def test_a_help_line_is_left_out_with_a_note(line: str) -> None:
    # Help only shows text in the kernel; a step does the same without it (was: refused).
    analysis = analyze_cell(f"x = 1\n{line}\nif x:\n    {line}\ny = x\n", cell="train")
    assert analysis.source.splitlines() == ["x = 1", "pass", "if x:", "    pass", "y = x"]
    assert analysis.notes == (
        (2, f"`{line}` only shows help in the kernel: left out of the step"),
        (4, f"`{line}` only shows help in the kernel: left out of the step"),
    )
    assert analysis.last_expression is None


def test_get_ipython_is_refused() -> None:
    error = refusal("ip = get_ipython()\n")
    assert "get_ipython()" in str(error)


def test_magic_used_as_a_value_must_time_an_expression() -> None:
    assert "expression" in str(refusal("x = %time for i in r: pass\n"))


def test_ipython_syntax_inside_a_string_is_just_a_string() -> None:
    assert python_of("x = '''\n!ls\n'''\n") == "x = '''\n!ls\n'''\n"


def test_refused_line_numbers_follow_first_line() -> None:
    assert refusal("x = 1\n!pip install numpy\n", first_line=2).line == 3


def test_component_header_is_ignored_and_lines_stay_the_users() -> None:
    analysis = analyze_cell("%%component train --cpu 2\n\n%time x = 1\ny = q\n", cell="train")
    assert analysis.binds == {"x", "y"}
    assert analysis.read_lines == {"q": 4}


def test_a_capture_cell_magic_keeps_the_body_with_a_note_and_no_result() -> None:
    # `%%capture` only hides the cell's output in the kernel (was: refused as a cell magic); its value is
    # not shown there, so the step has no result; the output goes to the step's log.
    analysis = analyze_cell("%%component fit\n%%capture out\nx = 1\nprint(x)\nx\n", cell="fit")
    assert analysis.source.splitlines() == ["", "", "x = 1", "print(x)", "x;"]
    assert analysis.last_expression is None and analysis.binds == {"x"}
    assert [(line, text.split(" only")[0]) for line, text in analysis.notes] == [(2, "`%%capture out`")]
    # with %%time after it, both go; other cell magics are still refused
    assert python_of("%%capture\n%%time\ny = 2\n").splitlines() == ["", "", "y = 2"]
    assert "%%bash" in str(refusal("%%capture\n%%bash\nls\n"))


def test_timeit_used_as_a_value_is_refused() -> None:
    # `t = %timeit -o f(x)` is a TimeitResult in the kernel (was: silently f(x)'s value in the step)
    error = refusal("x = 1\nt = %timeit -o f(x)\n")
    assert error.line == 2 and "the value of %timeit is its timings" in str(error), str(error)
    assert python_of("t = %time f(x)\n") == "t = (f(x))\n"  # %time's value is the expression's

"""A step compiles its cell (and setup code) to the same code object, with the user's line numbers, whether
it walks the cell's tree to renumber its lines or, when every line moves by the same count (a cell's
lines follow one another from its first), compiles the text after that many blank lines (issue 15: no
tree built and walked, ~0.2 ms of each notebook step). The tree stays for what needs it: a last line
kept as the step's result, and line maps that are not one shift."""

import ast
import linecache
import marshal
import types

import pytest

from jupyter_mlops.step_runtime.run import _mlops_cell_code, _mlops_compile_cell, _mlops_exec

FLAGS = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)

CELLS = [
    "v1: int = v0 + 1\n",
    "x = 1",  # no final newline
    "",
    "# only a comment\n",
    "from __future__ import annotations\n\ndef f(a: Later) -> Later:\n    return a\n",
    '"""a docstring"""\nimport os\n\n@staticmethod\ndef g(\n    a,\n    b=(1,\n       2),\n):\n'
    "    return a\n",
    "class A:\n    def m(self):\n        return [i for i in range(3) if i]\n\n\nvalue = A().m()\n",
    "text = '''line one\nline two'''\ns = f\"{text!r:>10}\" + 'x\\fy\\u2028z'\n",
    "total = 0\nfor i in range(3):\n    try:\n        total += 1 / i\n"
    "    except ZeroDivisionError:\n        pass\n",
    "async def fetch():\n    return 1\n\nvalue = await fetch()\n",
    "with open(__file__) as f, \\\n        open(__file__) as g:\n    pass\n"
    "match value:\n    case [1, *rest] if rest:\n        pass\n    case {'a': 1}:\n        pass\n",
    "lambda_ = lambda x: (\n    x\n    + 1\n)\n\x0cform = 1\n",
    "x = 1\r\ny = 2\r\n",
    "s = 'a\u2028b\x1cc'\nt = len(s)\n",  # line breaks to str.splitlines, not to Python's tokenizer
]


def by_tree(source: str, filename: str, runs: list[list[int]] | None) -> types.CodeType:
    """The reference: the tree with its lines renumbered (_mlops_compile_cell), compiled."""
    tree = _mlops_compile_cell(source, filename, "%%component s", runs)
    return compile(tree, filename, "exec", flags=FLAGS)


def as_code(compiled: object, filename: str) -> types.CodeType:
    if isinstance(compiled, types.CodeType):
        return compiled
    return compile(compiled, filename, "exec", flags=FLAGS)  # type: ignore[call-overload,no-any-return]


@pytest.mark.parametrize("runs", [None, [], [[1, 1]], [[1, 2]], [[1, 7]], [[1, 40]]])
@pytest.mark.parametrize("source", CELLS)
def test_a_cell_whose_lines_move_by_one_count_compiles_to_the_same_code(
    source: str, runs: list[list[int]] | None
) -> None:
    filename = "<cell s>"
    expected = by_tree(source, filename, runs)
    shown = linecache.cache.pop(filename)

    code = as_code(_mlops_cell_code(source, filename, "%%component s", runs), filename)

    assert marshal.dumps(code) == marshal.dumps(expected)  # bytecode, constants, line and column table
    assert linecache.cache[filename] == shown  # tracebacks show the same user lines


@pytest.mark.parametrize("runs", [[[1, 2], [3, 9]], [[2, 5]], [[1, 3], [2, 3]], [[3, 1]]])
def test_line_maps_that_are_not_one_shift_still_renumber_the_tree(runs: list[list[int]]) -> None:
    source = "a = 1\nb = 2\nc = a + b\nd = c\n"
    filename = "<cell t>"
    expected = by_tree(source, filename, runs)

    code = as_code(_mlops_cell_code(source, filename, "%%component t", runs), filename)

    assert marshal.dumps(code) == marshal.dumps(expected)


def test_a_cell_runs_and_fails_at_the_users_line() -> None:
    source = "x = 1\ny = x + 1\nraise ValueError(y)\n"
    filename = "<cell u>"
    ns: dict[str, object] = {}
    with pytest.raises(ValueError, match=r"^2$") as failure:
        _mlops_exec(_mlops_cell_code(source, filename, "%%component u", [[1, 2]]), filename, "exec", ns, [])

    assert ns["y"] == 2
    frame = failure.traceback[-1]
    assert (frame.path, frame.lineno + 1) == (filename, 4)  # the cell's third line, under its magic line
    assert linecache.getline(filename, 4) == "raise ValueError(y)\n"


def test_a_syntax_error_is_reported_as_the_tree_reports_it() -> None:
    source = "x = 1\ny = (\n"
    with pytest.raises(SyntaxError) as by_the_tree:
        _mlops_compile_cell(source, "<cell v>", "%%component v", [[1, 2]])
    with pytest.raises(SyntaxError) as failure:
        _mlops_cell_code(source, "<cell v>", "%%component v", [[1, 2]])

    assert (failure.value.msg, failure.value.lineno) == (by_the_tree.value.msg, by_the_tree.value.lineno)

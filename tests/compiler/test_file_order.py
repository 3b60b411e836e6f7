"""Steps that share files through the notebook's folder run in notebook order, and writers are not cached."""

from __future__ import annotations

import pytest
import yaml

from jupyter_mlops.compiler import compile_yaml, plan_pipeline
from jupyter_mlops.compiler.plan import PipelinePlan
from jupyter_mlops.compiler.planner import describe
from jupyter_mlops.errors import UsageError
from jupyter_mlops.notebook.workspace import Workspace
from jupyter_mlops.render.plan_text import plan_text

PLOTS = [
    ("load", "import pandas as pd\ndf = pd.read_csv('data/points.csv')\n"),
    ("make_dir", "import os\nos.makedirs('figures', exist_ok=True)\n"),
    ("plot_fit", "import matplotlib.pyplot as plt\nplt.plot(df.x, df.y)\nplt.savefig('figures/fit.png')\n"),
    ("stats", "mean = df.y.mean()\n"),  # no files: free to run at once
    ("plot_residuals", "plt.plot(df.x, df.y - mean)\nplt.savefig('figures/residuals.png')\n"),
    ("report", "names = sorted(os.listdir('figures'))\nprint(names)\n"),
    ("check", "n = len(os.listdir('figures'))\n"),
]


def _workspace(steps: list[tuple[str, str]], setup: str = "") -> Workspace:
    w = Workspace("files")
    if setup:
        w.define_setup("", setup)
    for line, body in steps:
        w.define_component(line, body)
    return w


def _plan(steps: list[tuple[str, str]], setup: str = "") -> PipelinePlan:
    return plan_pipeline(_workspace(steps, setup).active)


def test_file_users_run_after_earlier_writers_and_the_edges_say_files() -> None:
    plan = _plan(PLOTS)
    files = {(a, b) for a, b, label in plan.edges if label == "files"}
    assert files == {
        ("load", "make_dir"),  # make_dir may change what load reads: load reads first
        ("make_dir", "plot_fit"),
        ("plot_fit", "plot_residuals"),
        ("plot_residuals", "report"),
        ("plot_residuals", "check"),  # readers are not ordered among themselves
    }
    assert plan.step("stats").after == ()
    assert plan.step("plot_fit").after == ("make_dir",)
    # data edges keep their labels, and an ordering already given by data is not drawn twice
    assert ("load", "plot_fit", "df") in plan.edges and ("stats", "plot_residuals", "mean") in plan.edges
    notes = [str(n) for n in plan.notes]
    assert (
        "plot_fit, line 4: uses files in the notebook's folder after step 'make_dir', which writes files "
        "(line 3: os.makedirs(...)); runs after it"
    ) in notes
    assert any(n.startswith("report, line 2: uses files") and "'plot_residuals'" in n for n in notes)
    assert any(
        n.startswith("make_dir, line 3: writes files after step 'load', which reads files") for n in notes
    )
    assert describe(plan)["steps"][5]["after"] == ["plot_residuals"]
    text = plan_text(plan)
    assert "after: make_dir (files)" in text


def test_steps_using_files_are_not_served_from_the_cache_and_the_plan_says_so() -> None:
    w = _workspace(PLOTS)
    plan = plan_pipeline(w.active)
    for name in ("make_dir", "plot_fit", "plot_residuals"):
        assert plan.step(name).options.cache is False, name
        assert any(
            str(n).startswith(f"{name}, line")
            and "writes files: re-runs each time; outputs from cache would not recreate the files" in str(n)
            for n in plan.notes
        ), name
    for name in ("load", "report", "check"):
        assert plan.step(name).options.cache is False, name
        assert any(
            str(n).startswith(f"{name}, line")
            and "reads files: re-runs each time; a result from cache would not see files that changed"
            in str(n)
            for n in plan.notes
        ), name
    assert plan.step("stats").options.cache is True
    spec = yaml.safe_load(compile_yaml(w.active))
    tasks = spec["root"]["dag"]["tasks"]
    assert tasks["plot-fit"]["cachingOptions"] == {}  # enableCache off
    assert tasks["report"]["cachingOptions"] == {}
    assert tasks["stats"]["cachingOptions"] == {"enableCache": True}
    assert sorted(tasks["report"]["dependentTasks"]) == ["plot-residuals"]


def test_cache_forces_caching_of_a_file_user_and_no_cache_needs_no_note() -> None:
    plan = _plan(
        [
            ("a --cache", "open('a.txt', 'w').write('a')\n"),
            ("b --no-cache", "open('b.txt', 'w')\n"),
            ("c --cache", "x = 1\ntext = open('a.txt').read()\n"),
        ]
    )
    assert plan.step("a").options.cache is True and plan.step("b").options.cache is False
    assert plan.step("c").options.cache is True
    messages = [str(n) for n in plan.notes]
    assert not any("re-runs each time" in n for n in messages)
    assert (
        "a, line 2: writes files (open(..., 'w')) and is cached anyway (--cache): a run from cache "
        "does not recreate them" in messages
    )
    assert any(n.startswith("c, line 3: reads files") and "cached anyway (--cache)" in n for n in messages)
    with pytest.raises(UsageError, match="--cache and --no-cache"):
        _plan([("a --cache --no-cache", "x = 1\n")])


def test_setup_helpers_and_imports_from_other_cells_count() -> None:
    setup = "import numpy as np\n\ndef save_fig(name):\n    plt.savefig(f'figures/{name}.png')\n"
    plan = _plan(
        [
            ("a", "import matplotlib.pyplot as plt\nplt.plot([1])\nsave_fig('a')\n"),
            ("b", "arr = np.load('arr.npy')\n"),
        ],
        setup,
    )
    assert ("a", "b", "files") in plan.edges
    assert plan.step("a").options.cache is False


def test_steps_that_touch_no_files_keep_their_parallelism() -> None:
    plan = _plan([("a", "x = 1\n"), ("b", "y = 2\n"), ("c", "z = x + y\n")])
    assert {label for _, _, label in plan.edges} == {"x", "y"}
    assert not plan.notes


def test_an_after_option_and_a_file_edge_give_one_edge() -> None:
    plan = _plan([("a", "open('a.txt', 'w')\n"), ("b --after a", "open('a.txt').read()\n")])
    assert [e for e in plan.edges if e[1] == "b"] == [("a", "b", "")]
    assert plan.step("b").after == ("a",)


def test_parameters_and_setup_values_holding_paths_count() -> None:
    w = Workspace("files")
    w.define_params('out_dir = "results/"\nlabel = "exp"\n')
    w.define_setup(
        "",
        "FIGURES = 'figures'\nDATA = 'data/points.csv'\n\n"
        "def store(value, where):\n    pass  # a helper from a module: its code is not seen\n\n"
        "mark = fetch_rows = store\n",
    )
    w.define_component("save", "store(label, out_dir)\n")
    w.define_component("tag", "mark(label)\n")
    w.define_component("read", "rows = fetch_rows(DATA)\n")
    plan = plan_pipeline(w.active)
    assert ("save", "read", "files") in plan.edges
    assert plan.step("tag").after == () and plan.step("save").options.cache is False


def test_pipeline_show_in_a_kernel_marks_file_edges_and_says_why(ip) -> None:  # type: ignore[no-untyped-def]
    from .conftest import run_cell

    run_cell(ip, "%%component make\nimport os\nos.makedirs('out', exist_ok=True)\n")
    run_cell(ip, "%%component write\nopen('out/a.txt', 'w').write('a')\n")
    run_cell(ip, "%%component report\nnames = os.listdir('out')\n")
    text = repr(run_cell(ip, "%pipeline show"))
    assert "after: make (files)" in text and "after: write (files)" in text
    assert (
        "report, line 2: uses files in the notebook's folder after step 'write', which writes files" in text
    )
    assert "write, line 2: writes files: re-runs each time" in text


def test_cells_that_cannot_be_read_leave_the_error_to_their_analysis() -> None:
    from jupyter_mlops.analysis.file_order import file_order

    w = _workspace([("a", "open('a.txt', 'w')\n"), ("b", "x = (\n"), ("c", "!ls\n")], setup="def f(:\n")
    order = file_order(w.active)  # no exception here: compile reports these cells with their lines
    assert order.effects["a"].writes_files and not order.effects["b"].uses_files
    assert not order.effects["c"].uses_files

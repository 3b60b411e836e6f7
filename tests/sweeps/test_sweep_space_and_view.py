"""Typed ranges as users write them, and the sweep's view (text, HTML with its parallel coordinates)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.errors import UsageError
from jupyter_mlops.sweeps import sweep
from jupyter_mlops.sweeps.space import Choice, FloatRange, IntRange, build_space, parse_items

TYPES = {"n": "int", "lr": "float", "kind": "str", "flag": "bool"}


def test_ranges_are_typed_by_the_parameters() -> None:
    space = build_space(
        parse_items(["n=2..8:2", "lr=1e-4..1e-1:log", "kind=a,b", "flag=True,False"]), TYPES, text=True
    )
    assert space.dimensions == {
        "n": IntRange(2, 8, 2),
        "lr": FloatRange(1e-4, 1e-1, None, True),
        "kind": Choice(("a", "b")),
        "flag": Choice((True, False)),
    }
    grid = build_space(parse_items(["n=1..3", "lr=0.0..0.2:0.1", "kind=x"]), TYPES, text=True)
    assert grid.fixed == {"kind": "x"}
    assert [(p["n"], p["lr"]) for p in grid.grid()] == [(n, lr) for n in (1, 2, 3) for lr in (0.0, 0.1, 0.2)]
    python = build_space({"n": range(1, 4), "lr": [0.1, 1], "kind": "b"}, TYPES)
    assert python.dimensions == {"n": IntRange(1, 3, 1), "lr": Choice((0.1, 1.0))} and python.fixed == {
        "kind": "b"
    }


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["n=1.5,2"], "parameter 'n' is an int; 1.5 is not one"),
        (["kind=a..b"], "a range LOW..HIGH needs an int or float parameter (kind is a str)"),
        (["n=8..2"], "the range's low end 8 is above its high end 2"),
        (["lr=0..1:log"], "a log range needs a positive low end"),
        (["depth=1,2"], "the pipeline has no parameter 'depth' (parameters: n, lr, kind, flag)"),
        (["n=3"], "nothing to search"),
        (["n"], "expected NAME=VALUES"),
    ],
)
def test_bad_ranges_say_what_is_wrong(words: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        build_space(parse_items(words), TYPES, text=True)


def test_a_grid_over_a_float_range_needs_a_step() -> None:
    with pytest.raises(UsageError, match=r"a grid needs values: give a step \(lr=0.0..1.0:0.1\)"):
        build_space(parse_items(["lr=0.0..1.0"]), TYPES, text=True).grid()


def test_the_view_ranks_trials_and_draws_one_line_per_finished_trial(tmp_path: Path) -> None:
    from .pipelines import quadratic_pipeline

    backend = LocalBackend(tmp_path / "home")
    s = sweep(quadratic_pipeline(), {"x": [1, 3, 5], "y": [0.0, 0.5]}, metric="score", name="v", parallel=3,
              backend=backend, working_dir=tmp_path, wait=True)  # fmt: skip
    text = s.summary()
    lines = text.splitlines()
    assert lines[0] == "Sweep v  FINISHED  6 trials done  max score"
    assert lines[1] == "  best score=10 (trial 3: x=3, y=0.5)"
    assert lines[3].split()[:4] == ["3", "3", "0.5", "10"]  # the table is best first
    page = s._repr_html_() or ""
    assert page.count("<polyline") == 6 and page.count('stroke-width="3"') == 1  # the best is bold
    assert ">x</text>" in page and ">y</text>" in page and ">score</text>" in page
    assert page.index("<td>3</td><td>3</td><td>0.5</td>") < page.index("<td>0</td><td>1</td>")


def test_without_optuna_a_random_search_says_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['optuna'] = None\n"
        "from jupyter_mlops.sweeps.search import make_search\n"
        "from jupyter_mlops.sweeps.space import build_space\n"
        "try:\n"
        "    make_search(build_space({'n': [1, 2]}, {'n': 'int'}), method='tpe', goal='max', seed=0)\n"
        "except Exception as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path).stdout
    assert "pip install 'jupyter-mlops[sweep]'" in out and "grid search needs nothing more" in out

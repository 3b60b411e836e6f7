"""A cell's last-line value as the step's `result` (issue 9, item 5), and tracebacks at the user's lines
(item 8): what a failing step's log shows."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.models import RunState, StepState

from .conftest import Runner
from .notebook_cells import compiled, notebook_pipeline


def _result(run, step: str):  # type: ignore[no-untyped-def]
    return next(a for a in run.listener.artifacts if a.step == step and a.name == "result")


def test_a_value_that_cannot_be_stored_is_kept_as_its_repr(run_pipeline: Runner) -> None:
    run = run_pipeline(compiled(['%%component keys\nd = {"a": 1, "b": 2}\nd.keys()']))
    assert run.state == RunState.SUCCEEDED, run.listener.log("keys")
    meta = _result(run, "keys").metadata
    assert meta["format"] == "repr" and meta["repr"] == "dict_keys(['a', 'b'])"
    assert (Path(run.outputs("keys")["result"]) / "value.txt").read_text() == "dict_keys(['a', 'b'])"


def test_none_is_no_result(run_pipeline: Runner) -> None:
    cells = [
        "%%component metric\nlog_metric('loss', 0.5)",
        "%%component info\nimport pandas as pd\npd.DataFrame({'a': [1]}).info()",
        "%%component nothing\nx = 1\nNone",
    ]
    run = run_pipeline(compiled(cells))
    assert run.state == RunState.SUCCEEDED, run.error
    for step in ("metric", "info", "nothing"):
        assert run.step(step).state == StepState.SUCCEEDED
        assert run.outputs(step).get("result") is None, run.outputs(step)
        assert all(a.name != "result" for a in run.listener.artifacts if a.step == step)
    assert "RangeIndex" in run.listener.log("info")  # df.info() printed, as in the notebook
    again = run_pipeline(compiled(cells))  # from the cache: still no result
    assert {s.state for s in again.listener.steps.values()} == {StepState.CACHED}
    assert all(again.outputs(step).get("result") is None for step in ("metric", "info", "nothing"))


def test_a_trailing_semicolon_keeps_the_value_out(run_pipeline: Runner) -> None:
    cells = [
        "%%component plot\nclass Text:\n    pass\n\n\ndef ylabel(s):\n    return Text()\n\n\nylabel('x');",
        "%%component shown\n[1, 2][0]  # a comment",
    ]
    run = run_pipeline(compiled(cells))
    assert run.state == RunState.SUCCEEDED, run.listener.log("plot")
    assert "result" not in run.outputs("plot")
    meta = _result(run, "shown").metadata
    assert meta["format"] == "json" and meta["repr"] == "1"
    assert json.loads((Path(run.outputs("shown")["result"]) / "value.json").read_text()) == 1


def test_a_failing_steps_traceback_points_at_the_cells_line(run_pipeline: Runner) -> None:
    cells = [
        "%%pipeline setup\nimport math\n\n\ndef ratio(a, b):\n    return a / b",
        "%%component train\nimport json\n\nx = 1\ny = ratio(x, 0)\nprint(y)",
    ]
    run = run_pipeline(compiled(cells))
    assert run.state == RunState.FAILED
    log = run.listener.log("train")
    assert 'File "<cell train>", line 5, in <module>\n    y = ratio(x, 0)' in log, log[-2000:]
    assert 'File "<pipeline setup>", line 6, in ratio\n    return a / b' in log, log[-2000:]
    assert log.rstrip().endswith("ZeroDivisionError: division by zero")
    # the step's error (the run view, `%pipeline status`) says where: the deepest line of the user's code
    assert run.step("train").error == "ZeroDivisionError: division by zero (%%pipeline setup, line 6)"


def test_line_numbers_follow_the_cell_when_ipython_lines_are_rewritten(run_pipeline: Runner) -> None:
    # `%time` is unwrapped and a continued line joined: the line numbers still are the user's.
    cells = ["%%component fit\na = 1\n%time b = 2\nc = (a +\n     b)\nd = c / 0"]
    run = run_pipeline(compiled(cells))
    assert run.state == RunState.FAILED
    assert 'File "<cell fit>", line 6, in <module>\n    d = c / 0' in run.listener.log("fit")
    assert run.step("fit").error == "ZeroDivisionError: division by zero (cell fit, line 6)"


def test_a_semicolon_after_a_call_or_a_multiline_call_is_no_result() -> None:
    endings = ["plt.ylabel('x');", "plt.ylabel('x') ;  # label", "plt.plot(\n    [1, 2],\n);", "x = 1\nx;"]
    setup = "%%pipeline setup\nclass plt:\n    def ylabel(s):\n        return s\n\n"
    cells = [setup + "    def plot(v):\n        return v"]
    cells += [f"%%component s{i}\n{ending}" for i, ending in enumerate(endings)]
    cells.append("%%component shown\nplt.ylabel('x')")
    plan = plan_pipeline(notebook_pipeline(cells))
    assert [plan.step(f"s{i}").result for i in range(len(endings))] == [False] * len(endings)
    assert plan.step("shown").result


def test_a_timeit_last_line_is_no_result(run_pipeline: Runner) -> None:
    # `%timeit expr` and a `%%timeit` cell show no value in the kernel; `%time expr` shows expr's.
    cells = [
        "%%component timed\nx = [1, 2]\n%timeit -n1 sum(x)",
        "%%component timed_cell\n%%timeit -n1\nsum([3, 4])",
        "%%component once\n%time sum([5, 6])",
    ]
    run = run_pipeline(compiled(cells))
    assert run.state == RunState.SUCCEEDED, run.error
    assert "result" not in run.outputs("timed") and "result" not in run.outputs("timed_cell")
    assert json.loads((Path(run.outputs("once")["result"]) / "value.json").read_text()) == 11

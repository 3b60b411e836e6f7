"""The next step of a chain readied while the step before it runs (issue 15, h15cell): when a step runs
alone and one step waits on it and on nothing else, the engine writes that step's module before the
first starts and names it in the first's request ("ahead"); the worker's spare for the next step
compiles it while it waits for its request, so that the step's load finds its code ready (each cell of
a notebook chain is a module of its own, which no step compiled before). A step's module, its result
and its log are unchanged; what its spare compiled is used only while the file holds those bytes."""

import functools
import json
import sys
import types
from pathlib import Path

import pytest
from kfp import dsl

from jupyter_mlops.executor.processes import ForkWorker, StepProcess, fork_supported
from jupyter_mlops.models import RunState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")

# A step that says whether its worker's spare compiled its module before its request came: the worker
# runs as `python -c` (ForkWorker), so its functions and its compiled code are `__main__`'s.
READIED = (
    "\nimport sys\n\n\ndef step() -> int:\n"
    "    return int(__file__ in sys.modules['__main__']._COMPILED.code)  # {tag}\n"
)


@component
def modules_written(x: int) -> int:
    """How many component modules the run has written as this step runs (they share one folder)."""
    import os

    folder = os.path.dirname(os.path.abspath(__file__))
    return len([n for n in os.listdir(folder) if n.startswith("component-") and n.endswith(".py")]) + x


@component
def plus_one(x: int) -> int:
    return x + 1


@component
def plus_two(x: int) -> int:
    return x + 2


@dsl.pipeline
def chain(x: int = 0) -> int:
    return plus_one(x=modules_written(x=x).output).output


@dsl.pipeline
def fan_out(x: int = 0) -> None:
    first = modules_written(x=x)
    plus_one(x=first.output)
    plus_two(x=first.output)


def test_a_module_compiled_ahead_is_the_code_its_first_step_runs(
    worker_module: types.ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / "component-a.py"
    path.write_text("def step() -> int:\n    return 5\n")
    compiled = worker_module._COMPILED

    compiled.ahead(str(path))  # never seen before: compiled at once (a repeated module waits for its second)
    code = compiled.code_of(str(path))
    assert code is not None and code.co_filename == str(path)
    module = worker_module._load_module("ephemeral_component", str(path))
    assert module.step() == 5
    assert module.step.__code__ in [c for c in code.co_consts if isinstance(c, types.CodeType)]

    path.write_text("def step() -> int:\n    return 6\n")  # changed since: the step compiles it itself
    assert compiled.code_of(str(path)) is None
    assert worker_module._load_module("ephemeral_component", str(path)).step() == 6


@pytest.mark.skipif(not fork_supported(), reason="forked steps (Linux)")
def test_the_spare_after_a_request_compiles_the_module_it_names(tmp_path: Path) -> None:
    first, second, third = (tmp_path / f"component-{n}.py" for n in "abc")
    for n, path in enumerate((first, second, third)):
        path.write_text(READIED.format(tag=n))
    worker = ForkWorker(sys.executable, tmp_path / "worker.log")

    def spawn(n: int, module: Path, ahead: Path | None) -> StepProcess:
        out = tmp_path / f"out-{n}.json"
        executor_input = {"inputs": {}, "outputs": {"outputFile": str(out)}}
        log = tmp_path / f"{n}.log"
        return worker.spawn(module, "step", json.dumps(executor_input), log, {}, tmp_path, ahead)

    def readied(n: int) -> object:
        assert (tmp_path / f"{n}.log").is_file()
        return json.loads((tmp_path / f"out-{n}.json").read_text())["parameterValues"]["Output"]

    try:
        assert spawn(0, first, second).wait(60) == 0, (tmp_path / "0.log").read_text()
        assert spawn(1, second, None).wait(60) == 0, (tmp_path / "1.log").read_text()
        assert spawn(2, third, None).wait(60) == 0, (tmp_path / "2.log").read_text()
        # the first was not named ahead; the second was (in the first's request); the third was not
        assert [readied(n) for n in range(3)] == [0, 1, 0]
    finally:
        worker.close()


@pytest.mark.skipif(not fork_supported(), reason="forked steps (Linux)")
def test_a_chain_writes_the_next_steps_module_before_the_step_before_it_runs(run_pipeline: Runner) -> None:
    result = run_pipeline(chain, fork=True, cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("modules-written")["Output"] == 2  # its own and the next step's
    assert result.outputs("plus-one")["Output"] == 3


@pytest.mark.skipif(not fork_supported(), reason="forked steps (Linux)")
def test_no_step_is_named_ahead_when_more_than_one_waits_on_it(run_pipeline: Runner) -> None:
    result = run_pipeline(fan_out, fork=True, cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("modules-written")["Output"] == 1  # its own only
    assert result.outputs("plus-one")["Output"] == 2
    assert result.outputs("plus-two")["Output"] == 3

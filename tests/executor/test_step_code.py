"""A component's module compiled once in the step worker (issue 15, per step): the third and later steps
of one component source (a chain, a loop) run the code the worker compiled when it handed out the
second, instead of reading and compiling the module again in each forked step. The code is used only
while the module file holds the very bytes it was compiled from; otherwise the step compiles the file
itself, as before."""

import json
import sys
import types
from pathlib import Path

import pytest

from jupyter_mlops.executor.processes import ForkWorker, StepProcess, fork_supported

SOURCE = "\nfrom kfp import dsl\n\n\ndef step() -> int:\n    return {value}\n"


def _code_consts(code: types.CodeType) -> list[object]:
    return [c for c in code.co_consts if isinstance(c, types.CodeType)]


def test_the_second_request_for_a_module_compiles_it_for_the_steps_after(
    worker_module: types.ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / "component-a.py"
    path.write_text(SOURCE.format(value=1))
    compiled = worker_module._COMPILED

    compiled.learn(str(path))  # the first step of it: compiled by that step only (maybe its only one)
    assert compiled.code_of(str(path)) is None
    compiled.learn(str(path))  # the second: the worker compiles it for the steps it forks after
    code = compiled.code_of(str(path))
    assert code is not None and code.co_filename == str(path)

    module = worker_module._load_module("ephemeral_component", str(path))
    assert module.step() == 1
    assert module.step.__code__ in _code_consts(code)  # the worker's code, not a compile of its own
    assert module.__file__ == str(path) and module.__name__ == "ephemeral_component"


def test_a_module_file_that_changed_is_compiled_again_by_the_step(
    worker_module: types.ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / "component-a.py"
    path.write_text(SOURCE.format(value=1))
    compiled = worker_module._COMPILED
    compiled.learn(str(path))
    compiled.learn(str(path))
    code = compiled.code_of(str(path))
    assert code is not None

    path.write_text(SOURCE.format(value=2))  # the same size, the same second: only the bytes differ
    assert compiled.code_of(str(path)) is None
    module = worker_module._load_module("ephemeral_component", str(path))
    assert module.step() == 2
    assert module.step.__code__ not in _code_consts(code)


def test_a_module_that_does_not_compile_is_left_to_the_step_to_report(
    worker_module: types.ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / "component-a.py"
    path.write_text("def step(:\n")
    compiled = worker_module._COMPILED
    compiled.learn(str(path))
    compiled.learn(str(path))  # no error here: the step's own load says it, in its log
    assert compiled.code_of(str(path)) is None
    with pytest.raises(SyntaxError):
        worker_module._load_module("ephemeral_component", str(path))


@pytest.mark.skipif(not fork_supported(), reason="forked steps (Linux)")
def test_steps_of_one_module_run_its_current_bytes_through_a_worker(tmp_path: Path) -> None:
    module = tmp_path / "component-a.py"
    worker = ForkWorker(sys.executable, tmp_path / "worker.log")

    def spawn(n: int) -> StepProcess:
        out = tmp_path / f"out-{n}.json"
        executor_input = {"inputs": {}, "outputs": {"outputFile": str(out)}}
        return worker.spawn(module, "step", json.dumps(executor_input), tmp_path / f"{n}.log", {}, tmp_path)

    def output(n: int) -> object:
        return json.loads((tmp_path / f"out-{n}.json").read_text())["parameterValues"]["Output"]

    try:
        module.write_text(SOURCE.format(value=1))
        for n in range(4):  # the third and fourth run the worker's compile
            assert spawn(n).wait(60) == 0, (tmp_path / f"{n}.log").read_text()
            assert output(n) == 1
        module.write_text(SOURCE.format(value=7))
        assert spawn(4).wait(60) == 0, (tmp_path / "4.log").read_text()
        assert output(4) == 7
    finally:
        worker.close()


@pytest.mark.skipif(not fork_supported(), reason="forked steps (Linux)")
def test_a_spare_readies_itself_leaving_nothing_a_step_can_see(
    worker_module: types.ModuleType, tmp_path: Path
) -> None:
    """What a spare runs ahead of its request, on throwaway values (worker.py: `_touch_ahead`), so that
    its first page copies are made off the step's path: it logs nothing, imports and keeps nothing, and
    adds no logging handler."""
    import logging
    import os

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a forked step's process, as the worker makes one
        code = 1
        try:
            out = os.open(tmp_path / "out.txt", os.O_WRONLY | os.O_CREAT, 0o644)
            os.dup2(out, 1)
            os.dup2(out, 2)
            worker_module._prepare()
            handlers, modules = list(logging.getLogger().handlers), set(sys.modules)
            worker_module._touch_ahead()
            sys.stdout.flush()
            sys.stderr.flush()
            seen = {
                "new_modules": sorted(set(sys.modules) - modules),
                "same_handlers": handlers == logging.getLogger().handlers,
            }
            os.write(write, json.dumps(seen).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        seen = json.loads(f.read() or b"{}")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert seen == {"new_modules": [], "same_handlers": True}
    assert (tmp_path / "out.txt").read_bytes() == b""

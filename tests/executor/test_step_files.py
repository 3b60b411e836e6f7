"""The files a step makes (issue 15, per-step cost): every new file is a new inode, which can cost
milliseconds on a file system where many were just deleted (executor/run_files.py). A run writes one
module per component source, not one per step; a step makes its output and its log, and a folder of
its own only for what needs one (an OutputPath parameter). What the step's code sees is unchanged: its
module is still `ephemeral_component`, as under kfp's launcher."""

import functools
from pathlib import Path

import pytest
from kfp import dsl

from jupyter_mlops.executor.processes import fork_supported
from jupyter_mlops.models import RunState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def inc(x: int) -> int:
    return x + 1


@component
def named(x: int) -> str:
    import sys

    return f"{__name__} {sys.modules[__name__].__name__} {x}"


@component
def writes_a_path(x: int, out: dsl.OutputPath(str)) -> None:  # type: ignore[valid-type]
    with open(out, "w") as f:
        f.write(str(x * 10))


@dsl.pipeline
def chain(x: int = 0) -> str:
    four = inc(x=inc(x=inc(x=inc(x=x).output).output).output)
    return named(x=four.output).output


@dsl.pipeline
def with_a_path(x: int = 2) -> str:
    return writes_a_path(x=inc(x=x).output).outputs["out"]


def files_of(workdir: Path) -> list[str]:
    return sorted(str(p.relative_to(workdir)) for p in workdir.rglob("*") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("fork", [True, False] if fork_supported() else [False])
def test_a_chain_of_one_component_writes_its_module_once_and_no_folder_per_step(
    run_pipeline: Runner, fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_SCRATCH", "run")  # the run's tmp/ (test_step_scratch.py: elsewhere)
    result = run_pipeline(chain, fork=fork, cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("named") == {"Output": "ephemeral_component ephemeral_component 4"}
    tmp = result.workdir / "tmp"
    modules = sorted(p.name for p in tmp.rglob("*.py"))
    assert len(modules) == 2, modules  # inc's and named's, whatever the number of their steps
    steps = ["inc", "inc-2", "inc-3", "inc-4", "named"]
    made = files_of(tmp)
    for step in steps:
        assert f".steps/{step}.output.json" in made, made
    # no step made a folder of its own (fork: the request goes through the worker's pipe)
    folders = sorted(p.name for p in tmp.iterdir() if p.is_dir() and p.name != ".steps")
    assert folders == ([] if fork else steps)


def test_a_step_with_an_output_path_gets_its_folder_and_its_value(run_pipeline: Runner) -> None:
    result = run_pipeline(with_a_path, fork=fork_supported(), cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("writes-a-path") == {"out": "30"}
    assert (result.workdir / "tmp" / "writes-a-path" / "parameters" / "out").read_text() == "30"

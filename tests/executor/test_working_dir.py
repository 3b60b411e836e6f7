"""Steps work in the run's working directory (the notebook's folder), not in the run's directory: a
relative path such as 'data/train.csv' is found where the kernel finds it, whether the step is forked
from the worker, started as a subprocess, or run in a venv for its packages. What the engine writes
(artifacts, logs) still goes under the run's directory. (Issue 9, item 3.)"""

import functools
from pathlib import Path

from kfp import dsl

from jupyter_mlops.models import RunState, StepState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def read_relative(table: dsl.Output[dsl.Dataset]) -> str:
    import os

    with open("data/train.csv") as f:
        text = f.read()
    with open(table.path, "w") as f:
        f.write(text.upper())
    return f"{os.getcwd()}|{text}"


@dsl.pipeline
def reads_data():
    read_relative()


@component(packages_to_install=["inflection==0.5.1"])
def read_relative_in_a_venv() -> str:
    import os
    import sys

    import inflection

    with open("data/train.csv") as f:
        return f"{os.getcwd()}|{f.read()}|{sys.prefix}|{inflection.__name__}"


@dsl.pipeline
def reads_data_in_a_venv():
    read_relative_in_a_venv()


def notebook_folder(root: Path, text: str) -> Path:
    folder = root / "notebook folder"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "train.csv").write_text(text)
    return folder


def test_forked_and_subprocess_steps_read_relative_paths_from_the_working_dir(
    run_pipeline: Runner, tmp_path: Path
) -> None:
    folder = notebook_folder(tmp_path, "a,b\n1,2\n")
    for fork in (True, False):
        result = run_pipeline(reads_data, cache=False, step_cwd=folder, fork=fork)

        assert result.state == RunState.SUCCEEDED, (fork, result.error, result.listener.log("read-relative"))
        cwd, text = result.step("read-relative").outputs["Output"].split("|")
        assert (Path(cwd), text) == (folder, "a,b\n1,2\n")
        table = Path(result.step("read-relative").outputs["table"])
        assert table.is_relative_to(result.workdir / "artifacts") and table.read_text() == "A,B\n1,2\n"
    assert sorted(p.name for p in folder.iterdir()) == ["data"]  # nothing of the run lands there


def test_a_step_in_a_venv_reads_relative_paths_from_the_working_dir(
    run_pipeline: Runner, tmp_path: Path
) -> None:
    folder = notebook_folder(tmp_path, "x\n")
    result = run_pipeline(reads_data_in_a_venv, cache=False, step_cwd=folder)

    assert result.state == RunState.SUCCEEDED, (result.error, result.listener.log("read-relative-in-a-venv"))
    cwd, text, prefix, _ = result.step("read-relative-in-a-venv").outputs["Output"].split("|")
    assert (Path(cwd), text) == (folder, "x\n")
    assert Path(prefix).parent == tmp_path / "cache" / "venvs"


def test_the_same_step_in_another_folder_is_not_a_cache_hit(run_pipeline: Runner, tmp_path: Path) -> None:
    first = notebook_folder(tmp_path / "one", "first\n")
    second = notebook_folder(tmp_path / "two", "second\n")

    a = run_pipeline(reads_data, step_cwd=first)
    b = run_pipeline(reads_data, step_cwd=second)
    again = run_pipeline(reads_data, step_cwd=first)

    assert [r.step("read-relative").state for r in (a, b, again)] == [
        StepState.SUCCEEDED,
        StepState.SUCCEEDED,  # not the first folder's result
        StepState.CACHED,
    ]
    assert b.step("read-relative").outputs["Output"].endswith("|second\n")
    assert again.step("read-relative").outputs["Output"].endswith("|first\n")


def test_a_working_dir_that_is_gone_fails_the_step_saying_so(run_pipeline: Runner, tmp_path: Path) -> None:
    result = run_pipeline(reads_data, cache=False, step_cwd=tmp_path / "moved away")

    assert result.state == RunState.FAILED
    error = result.step("read-relative").error or ""
    assert "working directory" in error and "moved away" in error and "notebook's folder" in error

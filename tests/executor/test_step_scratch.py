"""Where a run's step files go (executor/scratch.py): the component modules, executor outputs and metrics
files of its steps go to a private folder on the memory file system (no inode of the run's disk for
them), deleted at the run's end; the run directory keeps the logs and artifacts. A folder that is not
private, a file system short of room, or `JUPYTER_MLOPS_SCRATCH=run` keeps them in the run's tmp/."""

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kfp import dsl

from jupyter_mlops.executor import scratch
from jupyter_mlops.executor.processes import fork_supported
from jupyter_mlops.models import RunState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def where(x: int) -> str:
    return f"{__file__}|{x}"


@component
def then(text: str) -> str:
    return text + "|then"


@dsl.pipeline
def two(x: int = 1) -> str:
    return then(text=where(x=x).output).output


def user_root(parent: Path) -> Path:
    return parent / f"jupyter-mlops-{os.getuid()}"


@pytest.fixture
def parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder standing for /dev/shm (the same code path: JUPYTER_MLOPS_SCRATCH names the parent)."""
    folder = tmp_path / "memory"
    folder.mkdir()
    monkeypatch.setenv(scratch.ENV, str(folder))
    return folder


def module_file(result: object) -> str:
    value = result.outputs("then")["Output"]  # type: ignore[attr-defined]
    file, x, end = value.split("|")
    assert (x, end) == ("1", "then")
    return file


@pytest.mark.parametrize("fork", [True, False] if fork_supported() else [False])
def test_step_files_go_to_the_private_folder_and_are_gone_after_the_run(
    run_pipeline: Runner, parent: Path, fork: bool
) -> None:
    result = run_pipeline(two, fork=fork, cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    root = user_root(parent)
    assert module_file(result).startswith(f"{root}/")  # the step's module was there
    assert oct(root.stat().st_mode & 0o777) == "0o700"
    assert os.listdir(root) == []  # its run's folder deleted at the end
    tmp = result.workdir / "tmp"
    assert not (tmp / ".steps").exists()
    # (a step run in a fresh interpreter still reads its request from its own folder there)
    assert not [p for p in tmp.rglob("*") if p.suffix == ".py" or p.name.endswith(".output.json")]
    assert (result.workdir / "logs" / "where.log").is_file()  # logs stay with the run


def test_jupyter_mlops_scratch_run_keeps_them_in_the_run_directory(
    run_pipeline: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(scratch.ENV, "run")
    result = run_pipeline(two, fork=fork_supported(), cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    assert module_file(result).startswith(f"{result.workdir / 'tmp' / '.steps'}/")


@pytest.mark.parametrize("how", ["open to others", "a link", "a file"])
def test_a_folder_that_is_not_private_is_not_used(
    run_pipeline: Runner, parent: Path, tmp_path: Path, how: str
) -> None:
    root = user_root(parent)
    if how == "open to others":
        root.mkdir(mode=0o755)
        root.chmod(0o755)
    elif how == "a link":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        root.symlink_to(tmp_path / "elsewhere")
    else:
        root.write_text("not a folder")

    result = run_pipeline(two, fork=fork_supported(), cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    assert module_file(result).startswith(f"{result.workdir / 'tmp' / '.steps'}/")
    if how == "a link":
        assert os.listdir(tmp_path / "elsewhere") == []


def test_a_file_system_short_of_room_is_not_used(
    run_pipeline: Runner, parent: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    free = os.statvfs(parent)
    monkeypatch.setattr(scratch, "MIN_FREE_BYTES", free.f_bavail * free.f_frsize * 2)

    result = run_pipeline(two, fork=fork_supported(), cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    assert module_file(result).startswith(f"{result.workdir / 'tmp' / '.steps'}/")


def test_the_folder_of_a_process_that_died_is_deleted_by_the_next_run(
    run_pipeline: Runner, parent: Path
) -> None:
    root = user_root(parent)
    root.mkdir(mode=0o700)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    left = root / f"{int(dead.stdout)}-0123456789ab"  # what a runner killed mid-run leaves
    (left / ".steps").mkdir(parents=True)
    (left / ".steps" / "component-0.py").write_text("x = 1\n")
    live = root / f"{os.getppid()}-ba9876543210"  # a live process's run: not touched
    live.mkdir()

    result = run_pipeline(two, fork=fork_supported(), cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    assert sorted(os.listdir(root)) == [live.name]


def test_a_caller_that_takes_the_clean_up_gets_the_folder_deleted_when_it_says(
    run_pipeline: Runner, parent: Path
) -> None:
    # The runner records the run's final state first, then deletes the folder (backends/local_runner.py):
    # the engine leaves the removal in `cleanups` instead of doing it before it returns.
    cleanups: list = []
    result = run_pipeline(two, fork=fork_supported(), cache=False, cleanups=cleanups)

    assert result.state is RunState.SUCCEEDED, result.error
    root = user_root(parent)
    (folder,) = os.listdir(root)
    assert Path(module_file(result)).is_relative_to(root / folder)  # still there: the caller deletes it
    assert len(cleanups) == 1
    cleanups[0]()
    assert os.listdir(root) == []


@pytest.mark.parametrize("mode", ["process", "service"])
def test_a_runner_deletes_its_runs_folder_after_recording_its_end(
    tmp_path: Path, parent: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    import time

    import jupyter_mlops as mlops
    from jupyter_mlops.backends.local import LocalBackend

    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", mode)
    monkeypatch.setenv("JUPYTER_MLOPS_SERVICE_IDLE_S", "5")
    backend = LocalBackend(tmp_path / "home")
    try:
        run = mlops.run(two, backend=backend, cache=False).wait(timeout=120)
        assert run.state is RunState.SUCCEEDED, run.info.error
        root = user_root(parent)
        deadline = time.monotonic() + 60  # (a wait for the runner's exit, not a time asserted)
        while os.listdir(root) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.listdir(root) == []
    finally:
        backend.close()

"""`jupyter-mlops` as a user meets it at the terminal: --version, Ctrl+C while it waits, a run named too
briefly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from cli_runs import cli
from nbformat.v4 import new_code_cell, new_notebook

import jupyter_mlops as mlops
from jupyter_mlops.errors import UsageError


def _gated_notebook(folder: Path) -> Path:
    """A notebook (in a folder with a space in its name) whose step runs until the file `go` appears."""
    folder.mkdir(parents=True)
    nb = new_notebook(
        cells=[
            new_code_cell("%load_ext jupyter_mlops"),
            new_code_cell(
                "%%component gated --define-only\nimport os, time\n"
                "while not os.path.exists('go'):\n    time.sleep(0.05)\nprint('through the gate')\n"
            ),
        ]
    )
    path = folder / "gated nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_ctrl_c_while_run_waits_says_the_run_goes_on_and_how_to_follow_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: Ctrl+C ended `run --wait` with exit code 130 and not a word: the user could not tell
    whether the run was stopped too, nor how to find it again."""
    home = tmp_path / "home"
    path = _gated_notebook(tmp_path / "my project")
    env = {**os.environ, "JUPYTER_MLOPS_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", str(path), "--wait"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen = []
    try:
        for line in proc.stdout:  # until the step is running: the wait is under way
            seen.append(line)
            if "gated  RUNNING" in line:
                break
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, "".join(seen) + rest
    run_id = seen[0].split()[1]
    assert f"run {run_id} goes on" in rest and f"jupyter-mlops cancel {run_id}" in rest, rest
    assert "Traceback" not in rest
    (path.parent / "go").write_text("")  # the run went on: let it through, it ends well
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(home))
    run = mlops.get_run(run_id).wait(timeout=300)
    assert run.state.value == "SUCCEEDED" and "through the gate" in run.logs("gated")


def test_a_run_id_prefix_too_short_to_name_a_run_says_how_long_it_must_be(tmp_path: Path) -> None:
    """`jupyter-mlops status e74` for run e74eb5047370 said only "no run 'e74'", though the id starts so."""
    home = tmp_path / "home"
    path = _gated_notebook(tmp_path / "project")
    (path.parent / "go").write_text("")
    out = cli(home, "run", str(path), "--wait", cwd=tmp_path)
    run_id = out.split()[1]
    env = {**os.environ, "JUPYTER_MLOPS_HOME": str(home)}
    short = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "status", run_id[:3]],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert short.returncode == 2
    assert "needs 4 or more characters" in short.stderr and run_id in short.stderr, short.stderr
    assert run_id in cli(home, "status", run_id[:4], cwd=tmp_path)


def test_version_says_which_jupyter_mlops_this_is() -> None:
    """Before: `jupyter-mlops --version` answered "the following arguments are required: command"."""
    from jupyter_mlops._version import __version__

    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == f"jupyter-mlops {__version__}", done


def test_a_limit_below_one_is_refused_with_a_word_not_a_traceback(tmp_path: Path) -> None:
    """`jupyter-mlops runs --limit -1` ended in a ValueError traceback from the run store; `--limit 0`
    said "No runs yet." of a store that holds runs."""
    home = tmp_path / "home"
    path = _gated_notebook(tmp_path / "project")
    (path.parent / "go").write_text("")
    cli(home, "run", str(path), "--wait", cwd=tmp_path)
    env = {**os.environ, "JUPYTER_MLOPS_HOME": str(home)}
    for limit, says in (("-1", "must be 1 or more, not -1"), ("0", "must be 1 or more, not 0")):
        done = subprocess.run(
            [sys.executable, "-m", "jupyter_mlops.cli", "runs", "--limit", limit],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2 and f"argument --limit: {says}" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and "No runs" not in done.stdout
    with pytest.raises(UsageError, match="1 or more"):
        mlops.runs(limit=0)


def test_a_bad_cell_is_named_once_by_its_number(tmp_path: Path) -> None:
    """`jupyter-mlops compile` said "cell code cell 3 (%%pipeline params), line 2: ..."."""
    nb = new_notebook(
        cells=[
            new_code_cell("%load_ext jupyter_mlops"),
            new_code_cell("%%component make\nvalues = [1, 2]"),
            new_code_cell("%%pipeline params\nlr = 0.1\nbad = object()"),
        ]
    )
    path = tmp_path / "params.ipynb"
    nbformat.write(nb, path)
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "compile", str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "error: code cell 3 (%%pipeline params), line 3: parameter 'bad'" in done.stderr, done.stderr
    assert "cell code cell" not in done.stderr

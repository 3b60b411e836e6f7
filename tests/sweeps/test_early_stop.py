"""Early stopping: a sweep starts no new trial once `patience` trials in a row brought nothing better,
or once the best reached the `target`."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.errors import UsageError
from jupyter_mlops.sweeps import sweep
from jupyter_mlops.sweeps.early_stop import EarlyStop, parse_early_stop

from .pipelines import quadratic_pipeline


@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalBackend:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    return LocalBackend(tmp_path / "home")


def test_the_settings_are_read_from_words_and_dicts() -> None:
    assert parse_early_stop("patience=3,target=9.5") == EarlyStop(3, 9.5)
    assert parse_early_stop("4") == EarlyStop(4, None)
    assert parse_early_stop({"target": 1}) == EarlyStop(None, 1.0)
    assert parse_early_stop(None) is None
    for bad, said in [("patience=0", "1 or more"), ("when=3", "unknown setting when"),
                      ("target=high", "not a number"), ({}, "nothing to stop on")]:  # fmt: skip
        with pytest.raises(UsageError, match=said):
            parse_early_stop(bad)


def test_the_rule_counts_trials_in_the_order_they_finished() -> None:
    rule = EarlyStop(patience=2)
    assert rule.reason([1.0, 2.0, 1.5], "max") is None
    assert "2 trials in a row" in (rule.reason([1.0, 2.0, 1.5, None], "max") or "")
    assert rule.reason([3.0, 2.0, 1.0], "min") is None  # each one better when minimizing
    assert "reached the target 2" in (EarlyStop(target=2.0).reason([5.0, 2.0], "min") or "")
    assert EarlyStop(target=2.0).reason([5.0, 2.5], "min") is None


def test_a_grid_sweep_with_patience_stops_starting_trials(backend: LocalBackend, tmp_path: Path) -> None:
    # One trial at a time over x = 5, 4, 3, 2, 1, 0 (y fixed): the score climbs to x = 3, then falls;
    # with patience 2 the trials for x = 2 and x = 1 bring nothing better, and x = 0 never starts.
    s = sweep(quadratic_pipeline(), {"x": [5, 4, 3, 2, 1, 0], "y": 0.5}, metric="score", parallel=1,
              name="patient", backend=backend, working_dir=tmp_path, early_stop="patience=2",
              wait=True)  # fmt: skip
    assert s.state == "FINISHED"
    assert [t.params["x"] for t in s.trials] == [5, 4, 3, 2, 1]
    assert s.best is not None and s.best.params["x"] == 3
    assert s.record.error == "stopped early: 2 trials in a row without a better value (patience 2)"
    assert "stopped early" in s.summary() and "error:" not in s.summary()


def test_a_sweep_reaching_its_target_starts_no_more_trials(backend: LocalBackend, tmp_path: Path) -> None:
    # One at a time over x = 1, 3, 5, 0: x = 3 scores 10.0 >= the target 9, so x = 5 never starts.
    s = sweep(quadratic_pipeline(), {"x": [1, 3, 5, 0], "y": 0.5}, metric="score", goal="max", parallel=1,
              name="targeted", backend=backend, working_dir=tmp_path, early_stop={"target": 9},
              wait=True)  # fmt: skip
    assert [(t.params["x"], t.state) for t in s.trials] == [(1, "SUCCEEDED"), (3, "SUCCEEDED")]
    assert s.record.error == "stopped early: the best value 10 reached the target 9"
    assert s.record.settings["early_stop"] == {"target": 9.0}


def test_the_command_line_takes_early_stop_as_the_magic_does(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from jupyter_mlops.compiler import compile_yaml

    spec = tmp_path / "quad.yaml"
    spec.write_text(compile_yaml(quadratic_pipeline()))
    env = {**os.environ, "JUPYTER_MLOPS_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "sweep", str(spec), "x=5,4,3,2,1,0", "y=0.5",
         "--metric", "score", "--parallel", "1", "--name", "cli-early", "--early-stop", "patience=1"],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("  trial ") == 4  # x = 5, 4, 3 got better; x = 2 did not: stop
    assert "stopped early: 1 trial in a row without a better value (patience 1)" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "sweep", str(spec), "x=1,2", "--metric", "score",
         "--early-stop", "soon"],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "early_stop: {'patience': 'soon'} has a value that is not a number" in bad.stderr

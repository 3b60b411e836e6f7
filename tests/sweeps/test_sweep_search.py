"""Grid, random and TPE sweeps over real local runs find the optimum of a known metric."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.errors import UsageError
from jupyter_mlops.sweeps import get_sweep, sweep

from .pipelines import expected_score, load_count, quadratic_pipeline


@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalBackend:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    return LocalBackend(tmp_path / "home")


def test_a_grid_sweep_runs_every_point_and_ranks_the_optimum_first(
    backend: LocalBackend, tmp_path: Path
) -> None:
    work = tmp_path / "nb"
    work.mkdir()
    s = sweep(
        quadratic_pipeline(),
        {"x": "1..5:2", "y": "0.0,0.5", "label": "b"},
        metric="score",
        goal="max",
        parallel=3,
        name="grid-quad",
        backend=backend,
        working_dir=work,
        text_space=True,
        wait=True,
    )
    assert s.state == "FINISHED"
    trials = s.trials
    assert sorted((t.params["x"], t.params["y"]) for t in trials) == [
        (x, y) for x in (1, 3, 5) for y in (0.0, 0.5)
    ]
    for t in trials:
        assert t.state == "SUCCEEDED" and t.value == expected_score(t.params["x"], t.params["y"])
    best = s.best
    assert best is not None and (best.params["x"], best.params["y"], best.value) == (3, 0.5, 10.0)
    assert best.params["label"] == "b"  # the fixed arguments come with the best parameters
    ranked = [t.value for t in s.ranked()]
    assert ranked == sorted(ranked, reverse=True)
    # the trials are runs grouped in an experiment named after the sweep
    runs = backend.list_runs(experiment="grid-quad").runs
    assert {r.id for r in runs} == {t.run_id for t in trials}
    assert {r.parameters["x"] for r in runs} == {1, 3, 5}
    # the step that reads no swept parameter ran once; every other trial reused it
    assert load_count(work) == 1
    assert get_sweep("grid-quad", backend=backend).best_params == best.params


def test_a_minimizing_grid_puts_the_lowest_first(backend: LocalBackend, tmp_path: Path) -> None:
    s = sweep(quadratic_pipeline(), {"x": [1, 3]}, metric="fit.score", goal="min", backend=backend,
              working_dir=tmp_path, wait=True)  # fmt: skip
    best = s.best
    assert best is not None and best.params["x"] == 1 and best.value == expected_score(1, 0.0)


def test_a_random_sweep_samples_the_space_and_finds_the_best_of_a_small_grid(
    backend: LocalBackend, tmp_path: Path
) -> None:
    s = sweep(quadratic_pipeline(), {"x": "0..6", "y": "0.5"}, metric="score", search="random",
              trials=14, parallel=4, seed=3, backend=backend, working_dir=tmp_path, text_space=True,
              wait=True)  # fmt: skip
    trials = s.trials
    assert len(trials) == 14 and all(0 <= t.params["x"] <= 6 and t.params["y"] == 0.5 for t in trials)
    assert len({t.params["x"] for t in trials}) >= 4  # seeded draws, spread over the range
    best = s.best
    assert best is not None and best.params["x"] == 3 and best.value == 10.0


def test_a_tpe_sweep_gets_close_to_the_optimum_of_a_continuous_space(
    backend: LocalBackend, tmp_path: Path
) -> None:
    s = sweep(quadratic_pipeline(), {"x": "0..8", "y": "-2.0..3.0"}, metric="score", search="tpe",
              trials=30, parallel=3, seed=1, backend=backend, working_dir=tmp_path, text_space=True,
              wait=True)  # fmt: skip
    assert len(s.trials) == 30
    best = s.best
    assert best is not None and best.params["x"] == 3 and abs(best.params["y"] - 0.5) < 0.35
    assert math.isclose(best.value or 0.0, expected_score(3, best.params["y"]))
    assert best.value is not None and best.value > 9.5


def test_a_trial_without_the_metric_fails_and_says_which_metrics_there_are(
    backend: LocalBackend, tmp_path: Path
) -> None:
    s = sweep(quadratic_pipeline(), {"x": [1, 2]}, metric="accuracy", backend=backend, working_dir=tmp_path,
              wait=True)  # fmt: skip
    assert [t.state for t in s.trials] == ["FAILED", "FAILED"]
    assert "logged no metric 'accuracy'" in (s.trials[0].error or "")
    assert "fit.score" in (s.trials[0].error or "")
    assert s.best is None


def test_sweeps_started_in_the_same_second_without_a_name_get_distinct_names(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A made-up name (pipeline + the second) gets a suffix when taken; a name the user gave does not:
    it is refused, pointing at resume. (The README's two sweep lines ran within one second once the
    runner service made sweeps fast, and the second was refused.)"""
    import jupyter_mlops.sweeps.handle as handle

    monkeypatch.setattr(handle.time, "strftime", lambda fmt, *a: "20261129-120000")  # one second
    monkeypatch.chdir(tmp_path)  # (the steps write their count file in the working directory)
    first = sweep(quadratic_pipeline(), {"x": [3]}, metric="score", backend=backend, wait=True)
    second = sweep(quadratic_pipeline(), {"x": [3]}, metric="score", backend=backend, wait=True)
    assert first.name == "sweep-quad-20261129-120000"
    assert second.name == "sweep-quad-20261129-120000-2"
    assert first.state == second.state == "FINISHED"
    with pytest.raises(UsageError, match="already exists: resume it"):
        sweep(quadratic_pipeline(), {"x": [3]}, metric="score", backend=backend, name=first.name)

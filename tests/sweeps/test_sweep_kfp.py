"""A sweep on the kfp backend, against the stand-in KFP server (tests/kfp_standin) through the real
kfp.Client: its trials are KFP runs in one experiment named after the sweep, their shared step runs
once on the "cluster", the best trial is the optimum, and a stop terminates the trials on the server.

Trials are scored from ML Metadata, which the KFP UI's server proxies (the stand-in records it as a
cluster's launcher would). Where the backend reaches only the API server (no ML Metadata), a sweep is
given `metrics=`, a reader of a finished trial's metrics: here one that asks the stand-in's executor."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from kfp_standin import StandIn

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.errors import UsageError
from jupyter_mlops.sweeps import sweep
from tests.waiting import wait_until

from .pipelines import expected_score, load_count, quadratic_pipeline


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    server = StandIn(tmp_path / "standin")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def backend(standin: StandIn) -> Iterator[KfpBackend]:
    made = KfpBackend(host=standin.url, refresh=0.2)
    yield made
    made.close()


def _reader(standin: StandIn) -> Any:
    def metrics(info: Any) -> Mapping[str, float]:
        return standin.cluster.local_run(info.id).metrics

    return metrics


def test_a_grid_sweep_on_kfp_runs_its_trials_as_kfp_runs_in_one_experiment(
    standin: StandIn, backend: KfpBackend
) -> None:
    assert backend.capabilities.outputs  # metrics read back from ML Metadata: no reader needed
    s = sweep(quadratic_pipeline(), {"x": "2..4", "y": "0.0,0.5"}, metric="score", parallel=2,
              name="kfp-grid", backend=backend, text_space=True, wait=True)  # fmt: skip
    assert s.state == "FINISHED" and len(s.trials) == 6
    for t in s.trials:
        assert t.state == "SUCCEEDED" and t.value == expected_score(t.params["x"], t.params["y"])
    best = s.best
    assert best is not None and (best.params["x"], best.params["y"], best.value) == (3, 0.5, 10.0)
    # On the KFP server: one experiment named after the sweep, holding exactly the trials' runs, each
    # with its trial's arguments and name.
    (experiment,) = [e for e in standin.cluster.experiments.values() if e.display_name == "kfp-grid"]
    records = [r for r in standin.cluster.runs.values() if r.experiment_id == experiment.experiment_id]
    assert {r.run_id for r in records} == {t.run_id for t in s.trials}
    by_id = {r.run_id: r for r in records}
    for t in s.trials:
        parameters = by_id[t.run_id or ""].runtime_config["parameters"]
        assert parameters == {"x": t.params["x"], "y": t.params["y"]}
        assert by_id[t.run_id or ""].display_name == f"kfp-grid-trial-{t.number}"
    assert {r.id for r in backend.list_runs(experiment="kfp-grid", limit=50).runs} == set(by_id)
    # The step that reads no swept parameter ran once on the cluster; the other trials reused it.
    assert load_count(standin.cluster.home / "pod") == 1


def test_a_sweep_on_kfp_without_ml_metadata_needs_a_metrics_reader_and_says_why(tmp_path: Path) -> None:
    api_only = StandIn(tmp_path / "api-only", ui=False)  # the API server alone: no ML Metadata proxy
    api_only.start()
    try:
        backend = KfpBackend(host=api_only.url, refresh=0.2)
        try:
            assert not backend.capabilities.outputs
            with pytest.raises(UsageError, match=r"does not read its runs' metrics back .* pass metrics="):
                sweep(quadratic_pipeline(), {"x": [1, 2]}, metric="score", backend=backend, name="unscored")
        finally:
            backend.close()
    finally:
        api_only.stop()


def test_stopping_a_sweep_on_kfp_terminates_its_trials_on_the_server(
    standin: StandIn, backend: KfpBackend
) -> None:
    s = sweep(quadratic_pipeline(sleep=30.0), {"x": [1, 2, 3, 4]}, metric="score", parallel=2,
              name="kfp-stop", backend=backend, metrics=_reader(standin))  # fmt: skip
    # a trial is noted before its run is submitted, and its run noted after
    wait_until(lambda: [bool(t.run_id) for t in s.trials] == [True, True], 60, "two trials started")
    running = [t.run_id or "" for t in s.trials]
    wait_until(lambda: all(standin.cluster.local_run(r).state.value == "RUNNING" for r in running), 60,
               "both trials running on the server")  # fmt: skip
    s.stop()
    assert s.state == "STOPPED" and [t.state for t in s.trials] == ["CANCELED", "CANCELED"]
    wait_until(lambda: all(backend.get(r).state.value == "CANCELED" for r in running), 60,
               "the trials canceled on the KFP server")  # fmt: skip
    assert len(standin.cluster.runs) == 2  # no third trial was started

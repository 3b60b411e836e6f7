"""`%pipeline runs`, `%pipeline compare` and `%pipeline show`: what the user sees, from a real run store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.errors import UsageError
from jupyter_mlops.models import MetricPoint, RunState
from jupyter_mlops.store import new_run_id
from jupyter_mlops.widgets import compare_view, mime, pipeline_view, runs_table


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[LocalBackend]:
    b = LocalBackend(tmp_path / "home", stale_after=3600)
    yield b
    b.close()


def finished_run(
    backend: LocalBackend, name: str, experiment: str, params: dict[str, object], metrics: dict[str, float],
    state: RunState = RunState.SUCCEEDED,
) -> str:  # fmt: skip
    rid = new_run_id()
    backend.store.create_run(
        run_id=rid, name=name, experiment=experiment, pipeline_name="demo", parameters=params,
        steps=["train"], edges=[],
    )  # fmt: skip
    for key, value in metrics.items():
        backend.store.record_metric(MetricPoint(rid, "train", key, value))
    backend.store.finish_run(rid, state, "boom" if state is RunState.FAILED else None)
    return rid


@pytest.fixture
def three_runs(backend: LocalBackend) -> list[str]:
    return [
        finished_run(backend, "lr-small", "tune", {"lr": 0.01, "epochs": 5}, {"acc": 0.81, "loss": 0.52}),
        finished_run(backend, "lr-big", "tune", {"lr": 0.5, "epochs": 5}, {"acc": 0.64, "loss": 0.9}),
        finished_run(backend, "baseline", "base", {"epochs": 1}, {}, RunState.FAILED),
    ]


def test_runs_table_has_a_column_per_parameter_and_metric(
    backend: LocalBackend, three_runs: list[str]
) -> None:
    table = runs_table(backend)
    keys = [c["key"] for c in table.columns]
    assert keys == [
        "name", "state", "experiment", "created_at", "duration",
        "param:epochs", "param:lr", "metric:train.acc", "metric:train.loss",
    ]  # fmt: skip
    by_name = {r["name"]: r for r in table.rows}
    assert by_name["lr-small"]["metrics"] == {"train.acc": 0.81, "train.loss": 0.52}
    assert by_name["baseline"]["state"] == "FAILED" and by_name["baseline"]["params"] == {"epochs": 1}
    assert [r["name"] for r in table.visible_rows()] == ["baseline", "lr-big", "lr-small"]  # newest first


def test_runs_table_sorts_and_filters_like_the_widget_does(
    backend: LocalBackend, three_runs: list[str]
) -> None:
    table = runs_table(backend)
    table.sort_key, table.sort_desc = "metric:train.acc", True
    assert [r["name"] for r in table.visible_rows()] == ["lr-small", "lr-big", "baseline"]  # no value: last
    table.sort_desc = False
    assert [r["name"] for r in table.visible_rows()] == ["lr-big", "lr-small", "baseline"]
    table.experiment = "tune"
    table.state = "SUCCEEDED"
    assert {r["name"] for r in table.visible_rows()} == {"lr-small", "lr-big"}
    table.state = "FAILED"
    assert table.visible_rows() == []
    assert table.text() == "no runs"


def test_runs_table_query_filters_and_bad_state(backend: LocalBackend, three_runs: list[str]) -> None:
    assert [r["name"] for r in runs_table(backend, experiment="base").rows] == ["baseline"]
    assert [r["name"] for r in runs_table(backend, state="failed").rows] == ["baseline"]
    assert len(runs_table(backend, limit=2).rows) == 2
    with pytest.raises(UsageError, match=r"unknown run state 'done'.*SUCCEEDED"):
        runs_table(backend, state="done")


def test_runs_table_refresh_picks_up_new_runs(backend: LocalBackend, three_runs: list[str]) -> None:
    table = runs_table(backend)
    finished_run(backend, "later", "tune", {"lr": 0.1}, {"acc": 0.9})
    table._on_frontend_msg(table, {"type": "refresh"}, [])  # the refresh button
    assert "later" in {r["name"] for r in table.rows}


def test_runs_table_static_and_text(
    backend: LocalBackend, three_runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    table = runs_table(backend)
    text = table.text()
    header = text.splitlines()[0].split()
    assert header[:3] == ["id", "run", "state"]
    assert "(2 more columns in the notebook view)" in text  # 9 + id columns, 8 shown
    monkeypatch.setattr(mime, "widget_frontend_available", lambda: True)
    data, _ = table._repr_mimebundle_()
    html = data["text/html"]
    assert html.count("<tr data-run=") == 3 and "train.acc" in html and "0.81" in html
    assert mime.WIDGET_MIME in data


def test_compare_puts_runs_side_by_side_and_marks_differences(
    backend: LocalBackend, three_runs: list[str]
) -> None:
    view = compare_view(backend, three_runs[:2])
    assert [r["label"] for r in view.runs] == ["lr-small", "lr-big"]
    params = {row["key"]: row for row in view.params}
    assert params["lr"]["values"] == [0.01, 0.5] and params["lr"]["diff"] is True
    assert params["epochs"]["values"] == [5, 5] and params["epochs"]["diff"] is False
    metrics = {row["key"]: row for row in view.metrics}
    assert metrics["train.acc"]["values"] == [0.81, 0.64] and metrics["train.acc"]["diff"]
    assert set(view.charts) == {"train.acc", "train.loss"} and view.chosen == "train.acc"
    chart = view.charts["train.acc"]
    assert chart.count('class="mlops-bar"') == 2 and "0.81" in chart and "lr-big" in chart
    text = view.text()
    assert re.search(r"^\* lr\s+0\.01\s+0\.5$", text, re.M)
    assert re.search(r"^  epochs\s+5\s+5$", text, re.M)


def test_compare_shows_a_missing_value_and_runs_asked_for_by_the_same_name_apart(
    backend: LocalBackend, three_runs: list[str]
) -> None:
    twin = finished_run(backend, "lr-small", "tune", {"lr": 0.02}, {"acc": 0.7})
    view = compare_view(backend, [three_runs[0], twin, three_runs[2]])
    labels = [r["label"] for r in view.runs]
    # The store gives a second run of the same name a suffix (issue 11): the two are told apart.
    assert labels[0] == "lr-small" and labels[1] == "lr-small-2"
    acc = next(row for row in view.metrics if row["key"] == "train.acc")
    assert acc["values"][2] is None and "no value" in view.charts["train.acc"]
    assert "—" in view.text()


def test_compare_needs_two_runs(backend: LocalBackend, three_runs: list[str]) -> None:
    with pytest.raises(UsageError, match="two or more runs"):
        compare_view(backend, three_runs[:1])


def test_pipeline_view_draws_the_not_yet_run_pipeline_with_data_on_edges() -> None:
    view = pipeline_view(
        ["prep", "train", "report"],
        [("prep", "train"), ("train", "report"), ("prep", "report")],
        labels={("prep", "train"): "df", ("train", "report"): "model"},
    )
    labels = {(e["source"], e["target"]): e["label"] for e in view.dag["edges"]}
    assert labels == {("prep", "train"): "df", ("train", "report"): "model", ("prep", "report"): ""}
    assert "report  <- train (model), prep" in view.text()
    html = view.static_html()
    assert html.count('class="mlops-node"') == 3 and ">df<" in html


def test_the_view_functions_stay_callable_after_their_modules_are_imported(
    backend: LocalBackend, three_runs: list[str]
) -> None:
    # A submodule named like a function would rebind it on import (`views.runs_table` -> module).
    from jupyter_mlops import widgets as views

    runs_table(backend)
    compare_view(backend, three_runs[:2])
    pipeline_view(["a"], [])
    for name in views.__all__:
        assert callable(getattr(views, name)), name


def test_nan_and_infinite_metrics_show_as_kfp_names_in_every_view(backend: LocalBackend) -> None:
    """A diverging loss shows "NaN", not "nan" or a broken widget message (JSON has no NaN)."""
    from jupyter_mlops.widgets.run_widget import run_payload

    bad = finished_run(
        backend, "diverged", "tune", {"lr": float("inf")}, {"loss": float("nan"), "gain": float("-inf")}
    )
    good = finished_run(backend, "fine", "tune", {"lr": 0.1}, {"loss": 0.5, "gain": 1.0})

    table = runs_table(backend)
    row = next(r for r in table.rows if r["name"] == "diverged")
    assert row["metrics"] == {"train.loss": "NaN", "train.gain": "-Infinity"} and row["params"] == {
        "lr": "Infinity"
    }
    text = table.text()
    assert re.search(r"diverged.*\sInfinity\s+-Infinity$", text, re.M), text  # 8 columns: no train.loss
    view = compare_view(backend, [bad, good])
    metrics = {row["key"]: row["values"] for row in view.metrics}
    assert metrics == {"train.gain": ["-Infinity", 1.0], "train.loss": ["NaN", 0.5]}
    assert "NaN" in view.text() and "nan" not in view.text()
    assert view.charts["train.loss"].count('class="mlops-bar"') == 1  # no bar of length NaN
    payload = run_payload(backend.get(bad))
    assert payload["metrics"] == {"train.gain": "-Infinity", "train.loss": "NaN"}


def _trained(backend: LocalBackend, name: str, lr: float, losses: list[float]) -> str:
    rid = new_run_id()
    backend.store.create_run(
        run_id=rid, name=name, experiment="tune", pipeline_name="demo", parameters={"lr": lr, "opt": "sgd"},
        steps=["train"], edges=[],
    )  # fmt: skip
    for i, loss in enumerate(losses):
        backend.store.record_metric(MetricPoint(rid, "train", "loss", loss, index=i * 10))
    backend.store.finish_run(rid, RunState.SUCCEEDED, None)
    return rid


def test_compare_charts_histories_and_parameters_against_the_metric(backend: LocalBackend) -> None:
    ids = [
        _trained(backend, "slow", 0.01, [1.0, 0.9, 0.8]),
        _trained(backend, "fast", 0.5, [1.0, 0.4, 0.2]),
        _trained(backend, "mid", 0.1, [1.0, 0.6, 0.5]),
    ]
    chart = compare_view(backend, ids).charts["train.loss"]
    assert chart.count('class="mlops-bar"') == 3  # the finals, as before
    assert chart.count('class="mlops-history-line"') == 3  # each run's history, one line each
    assert "fast at 20: 0.2</title>" in chart  # every point's value on hover
    assert chart.count('class="mlops-parallel-line"') == 3  # lr (numeric, differs) against the loss
    assert ">lr<title>" in chart and ">opt<" not in chart  # a parameter alike in every run is no axis
    two = compare_view(backend, ids[:2]).charts["train.loss"]
    assert "mlops-history-line" in two and "mlops-parallel" not in two  # parallel axes from 3 runs on


def test_runs_table_columns_put_the_newest_runs_parameters_first(backend: LocalBackend) -> None:
    """A store holds runs of several notebooks: the newest runs' parameters and metrics come first (a
    terminal shows 8 columns), not whichever sorts first by name (`C` of an old scikit-learn run)."""
    finished_run(backend, "old-svm", "svm", {"C": 1.0, "alphas": [0.1]}, {"f1": 0.7})
    finished_run(backend, "net", "nets", {"lr": 0.5, "hidden": 8, "epochs": 60}, {"acc": 0.9})
    table = runs_table(backend)
    keys = [c["key"] for c in table.columns][5:]
    assert keys == [
        "param:epochs", "param:hidden", "param:lr", "param:C", "param:alphas",
        "metric:train.acc", "metric:train.f1",
    ]  # fmt: skip
    assert table.text().splitlines()[0].split()[6:] == ["epochs", "hidden"]  # 8 columns in a terminal

"""The live run view's Python side, against the real LocalBackend and its SQLite run store.

The test plays the runner's part by writing step states into the store (as the local runner does), so each
change happens at a known point; the view must follow from `events()` alone and stop when the run ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from waiting import wait_until

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import MetricPoint, RunState, StepInfo, StepState
from jupyter_mlops.store import new_run_id
from jupyter_mlops.store.logs import step_log_path
from jupyter_mlops.widgets import mime, run_view
from jupyter_mlops.widgets.run_widget import RunView

pytestmark = pytest.mark.timeout(60)


def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait for the view's thread to catch up (no speed is asserted: the timeout only stops a hang)."""
    wait_until(check, timeout, what, interval=0.02)


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[LocalBackend]:
    # No runner process: the test writes what a runner would. A long stale_after keeps the liveness
    # check from declaring this runner-less run dead while the test drives it.
    b = LocalBackend(tmp_path / "home", stale_after=3600)
    yield b
    b.close()


@pytest.fixture
def run_id(backend: LocalBackend) -> str:
    rid = new_run_id()
    backend.store.create_run(
        run_id=rid,
        name="train-demo",
        experiment="views",
        pipeline_name="demo",
        parameters={"lr": 0.1},
        steps=["load", "train", "report"],
        edges=[("load", "train"), ("train", "report")],
    )
    (backend.store.run_dir(rid) / "logs").mkdir(parents=True, exist_ok=True)
    return rid


@pytest.fixture
def view(backend: LocalBackend, run_id: str) -> Iterator[RunView]:
    v = run_view(backend, run_id, live=True)  # live as in a kernel (this test process has none)
    yield v
    v.close()


def step_state(view: RunView, step: str) -> str:
    return str(view.run["steps"][step]["s"])


def test_the_view_follows_each_step_until_the_run_ends_then_stops(
    backend: LocalBackend, run_id: str, view: RunView
) -> None:
    assert view.watching and view.polling
    assert view.dag["nodes"][0]["id"] == "load" and len(view.dag["edges"]) == 2
    assert [step_state(view, s) for s in ("load", "train", "report")] == ["PENDING"] * 3
    layout_before = view.dag

    store = backend.store
    store.mark_running(run_id, 0, "test-host")  # pid 0: liveness falls back to the heartbeat
    t0 = time.time()
    store.record_step(run_id, StepInfo("load", StepState.RUNNING, started_at=t0))
    eventually(lambda: step_state(view, "load") == "RUNNING", "load shown RUNNING")
    assert view.run["state"] == "RUNNING"

    store.record_step(run_id, StepInfo("load", StepState.SUCCEEDED, started_at=t0, finished_at=t0 + 1))
    store.record_step(run_id, StepInfo("train", StepState.RUNNING, started_at=t0 + 1))
    store.record_metric(MetricPoint(run_id, "train", "loss", 0.25))
    eventually(lambda: step_state(view, "train") == "RUNNING", "train shown RUNNING")
    eventually(lambda: view.run["metrics"] == {"train.loss": 0.25}, "the run's metric shown")
    assert step_state(view, "load") == "SUCCEEDED" and view.run["done"] == 1 and view.run["total"] == 3
    assert view.run["steps"]["load"]["t1"] == t0 + 1

    store.record_step(
        run_id,
        StepInfo(
            "train", StepState.FAILED, started_at=t0 + 1, finished_at=t0 + 2, error="ValueError: bad lr"
        ),
    )
    store.finish_run(run_id, RunState.FAILED, "step train failed")
    eventually(lambda: not view.polling, "the view stopped polling")
    assert view.run["state"] == "FAILED" and view.run["error"] == "step train failed"
    assert step_state(view, "train") == "FAILED" and view.run["steps"]["train"]["err"] is True
    assert step_state(view, "report") == "SKIPPED" and view.run["done"] == 3
    assert not view.watching
    assert view.dag == layout_before  # laid out once; only states travel


def test_a_finished_view_asks_the_backend_nothing_more(backend: LocalBackend, run_id: str) -> None:
    backend.store.finish_run(run_id, RunState.CANCELED)
    calls: list[str] = []
    real_events = backend.events

    def counting_events(rid: str, after: int = 0) -> Any:
        calls.append(rid)
        return real_events(rid, after)

    backend.events = counting_events  # type: ignore[method-assign]
    v = run_view(backend, run_id, live=True)
    try:
        assert not v.polling and not v.watching and v.run["state"] == "CANCELED"
        settled = len(calls)
        time.sleep(1.0)  # four poll intervals: a polling view would have asked again
        assert len(calls) == settled
    finally:
        v.close()


def test_clicking_a_step_answers_with_its_log_tail_and_details(
    backend: LocalBackend, run_id: str, view: RunView
) -> None:
    store = backend.store
    t0 = time.time()
    store.record_step(
        run_id,
        StepInfo("load", StepState.SUCCEEDED, started_at=t0, finished_at=t0 + 1, inputs={"n": 3},
                 outputs={"df": "rows=3"}),
    )  # fmt: skip
    log = step_log_path(store.run_dir(run_id), "load")
    log.write_text("reading data\nloaded 3 rows\n")
    eventually(lambda: step_state(view, "load") == "SUCCEEDED", "load shown SUCCEEDED")

    sent: list[dict[str, Any]] = []
    view.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    view._on_frontend_msg(view, {"type": "detail", "step": "load"}, [])  # what the JS click sends
    assert len(sent) == 1
    detail = sent[0]
    assert detail["type"] == "detail" and detail["step"] == "load" and detail["state"] == "SUCCEEDED"
    assert detail["log"] == "reading data\nloaded 3 rows\n" and detail["log_truncated"] is False
    assert detail["inputs"] == {"n": 3} and detail["outputs"] == {"df": "rows=3"}


def test_a_running_steps_log_is_read_on_from_where_it_stopped(
    backend: LocalBackend, run_id: str, view: RunView
) -> None:
    store = backend.store
    store.record_step(run_id, StepInfo("train", StepState.RUNNING, started_at=time.time()))
    eventually(lambda: step_state(view, "train") == "RUNNING", "train shown RUNNING")
    log = step_log_path(store.run_dir(run_id), "train")
    log.write_text("epoch 1\n")
    assert view.step_detail("train")["log"] == "epoch 1\n"
    with log.open("a") as f:
        f.write("epoch 2\n" + "x" * 20_000 + "\nepoch 3 done\n")
    text, truncated = view.log_tail("train")
    assert truncated and text.endswith("epoch 3 done\n") and len(text) <= 16_000


def test_a_progress_bar_in_a_steps_log_is_one_line_in_its_view(
    backend: LocalBackend, run_id: str, view: RunView
) -> None:
    store = backend.store
    store.record_step(run_id, StepInfo("train", StepState.RUNNING, started_at=time.time()))
    eventually(lambda: step_state(view, "train") == "RUNNING", "train shown RUNNING")
    log = step_log_path(store.run_dir(run_id), "train")
    bar = "".join(f"\r{i:3d}%|{'#' * (i // 4):<25}|" for i in range(101))  # a tqdm-like bar, redrawn
    log.write_text("epoch 1\n" + bar[: len(bar) // 2])
    shown = view.step_detail("train")["log"]  # read while the bar is half drawn
    assert shown.startswith("epoch 1\n") and shown.count("%|") == 1 and "\r" not in shown, repr(shown)
    with log.open("a") as f:
        f.write(bar[len(bar) // 2 :] + "\n" + bar * 40 + "\nloss 0.25\n")  # 4,000 redraws: 160 KB
    text, truncated = view.log_tail("train")
    assert text == "epoch 1\n100%|#########################|\n100%|#########################|\nloss 0.25\n"
    assert not truncated  # the redraws did not push the step's own lines out of the view's tail


def test_a_failed_step_shows_its_error_and_an_unknown_step_says_so(
    backend: LocalBackend, run_id: str, view: RunView
) -> None:
    backend.store.record_step(
        run_id, StepInfo("load", StepState.FAILED, started_at=1.0, finished_at=2.0, error="KeyError: 'x'")
    )
    eventually(lambda: step_state(view, "load") == "FAILED", "load shown FAILED")
    assert view.step_detail("load")["error"] == "KeyError: 'x'"
    assert "no step 'nope'" in view.step_detail("nope")["missing"]


def test_in_terminal_ipython_the_view_prints_once_and_starts_no_thread(
    backend: LocalBackend, run_id: str
) -> None:
    v = run_view(backend, run_id)  # no kernel here, as in terminal IPython
    try:
        assert not v.polling and not v.watching
        assert v.text().startswith("Run train-demo (") and "0/3 steps" in v.text()
    finally:
        v.close()


def test_the_output_holds_widget_html_and_text_in_a_kernel_and_only_text_in_a_terminal(
    view: RunView, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _ = view._repr_mimebundle_()
    assert set(data) == {"text/plain"}  # no kernel here: terminal IPython
    assert data["text/plain"].startswith("Run train-demo (")

    monkeypatch.setattr(mime, "widget_frontend_available", lambda: True)
    data, _ = view._repr_mimebundle_()
    assert set(data) == {"text/plain", "text/html", mime.WIDGET_MIME}
    assert data[mime.WIDGET_MIME]["model_id"] == view.model_id
    assert 'data-step="train"' in data["text/html"] and "0/3 steps" in data["text/html"]


def test_a_step_known_only_at_run_time_is_added_to_the_drawing(
    backend: LocalBackend, run_id: str, view: RunView
) -> None:
    # e.g. a ParallelFor iteration: the runner reports a step that was not in the plan
    layout_before = view.dag
    backend.store.record_step(run_id, StepInfo("loop-iteration-0", StepState.RUNNING, started_at=time.time()))
    eventually(lambda: "loop-iteration-0" in view.run["steps"], "the new step in the state")
    assert [n["id"] for n in view.dag["nodes"]] == ["load", "train", "report", "loop-iteration-0"]
    assert view.dag != layout_before


def test_a_view_of_an_unknown_run_is_a_clear_error_and_leaves_no_noise(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import sys

    from jupyter_mlops.errors import RunNotFound

    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with pytest.raises(RunNotFound, match="no run 'deadbeef'"):
        RunView(backend, "deadbeef", live=True)
    gc.collect()
    # ipywidgets' __del__ closes the half-made widget; that must not print "Exception ignored in".
    assert not unraisable, [f"{u.exc_type.__name__}: {u.exc_value}" for u in unraisable]

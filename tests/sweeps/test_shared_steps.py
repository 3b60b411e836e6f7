"""Shared work runs once: trials starting together wait for an identical step instead of running it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.executor.cache import StepCache
from jupyter_mlops.sweeps import sweep

from .pipelines import load_count, quadratic_pipeline


def test_sixteen_trials_started_at_once_run_the_shared_step_once(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "home")
    work = tmp_path / "nb"
    work.mkdir()
    # The shared step takes a second, so the trials started together find it running (a runner that
    # starts runs within milliseconds could otherwise finish an instant step before the others look).
    s = sweep(quadratic_pipeline(load_sleep=1.0), {"x": "0..7", "y": "0.0,0.5"}, metric="score", parallel=16,
              backend=backend, working_dir=work, text_space=True, wait=True)  # fmt: skip
    assert [t.state for t in s.trials] == ["SUCCEEDED"] * 16
    assert load_count(work) == 1  # the step counted its own executions
    states = [backend.get(t.run_id or "").step("load").state.value for t in s.trials]
    assert sorted(states) == ["CACHED"] * 15 + ["SUCCEEDED"]
    waited = [
        backend.logs(t.run_id or "", "load").text for t in s.trials if "waiting for the same step" in
        backend.logs(t.run_id or "", "load").text
    ]  # fmt: skip
    assert waited, "no trial waited for the running step: they did not start together"
    assert all("step load" in text for text in waited)  # the log names what it waited for


def test_a_waiting_step_takes_the_lock_when_the_holder_leaves_and_gives_up_when_canceled(
    tmp_path: Path,
) -> None:
    cache = StepCache(tmp_path)
    key = "ab" * 32
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with cache.single_flight(key, threading.Event(), "run r1 step s", lambda _: None) as held:
            assert held
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(30)
    cancel = threading.Event()
    seen: list[str] = []
    threading.Timer(0.3, cancel.set).start()
    with cache.single_flight(key, cancel, "run r2 step s", seen.append) as held:
        assert held is False  # canceled while waiting
    assert seen == ["run r1 step s"]
    got: list[bool] = []

    def wait_then_hold() -> None:
        with cache.single_flight(key, threading.Event(), "run r3 step s", lambda _: None) as held:
            got.append(held)

    waiter = threading.Thread(target=wait_then_hold)
    waiter.start()
    time.sleep(0.2)
    assert got == []  # still held by r1
    release.set()
    holder.join(30)
    waiter.join(30)
    assert got == [True]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))

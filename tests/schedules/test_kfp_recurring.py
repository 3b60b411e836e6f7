"""Schedules on the kfp backend are KFP recurring runs, made through the real kfp.Client against the
stand-in KFP server (tests/kfp_standin), whose controller part is fired with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from kfp_standin import StandIn

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.errors import NotFound, UsageError
from jupyter_mlops.models import RunState
from jupyter_mlops.notebook.workspace import Workspace
from jupyter_mlops.run_handle import Run
from jupyter_mlops.schedules import delete_schedule, list_schedules, pause_schedule, resume_schedule, schedule
from jupyter_mlops.schedules.options import change


def at(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc).timestamp()


def _pipeline(value: str = "1") -> object:
    ws = Workspace("nightly")
    ws.define_params("scale = 2\n", "params")
    ws.define_component("train", f"score = {value} * scale\nlog_metric('score', score)\n", "train")
    return ws.active


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    server = StandIn(tmp_path / "standin")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def backend(standin: StandIn) -> Iterator[KfpBackend]:
    made = KfpBackend(host=standin.url)
    yield made
    made.close()


def test_a_schedule_on_kfp_is_a_recurring_run_that_fires_its_snapshot(
    standin: StandIn, backend: KfpBackend
) -> None:
    ws_pipeline = _pipeline("1")
    made = schedule(ws_pipeline, "0 3 * * *", name="nightly", arguments={"scale": 5}, backend=backend)
    assert (made.record.backend, made.record.cron, made.record.timezone, made.record.paused) == (
        "kfp", "0 3 * * *", "UTC", False)  # fmt: skip
    assert made.record.experiment == "nightly" and made.record.arguments == {"scale": 5}
    # On the server: a recurring run with KFP's six-field cron, backfill off, the spec inline
    (item,) = standin.recurring.items.values()
    assert item.display_name == "nightly" and item.trigger.cron_schedule.cron == "0 0 3 * * *"
    assert item.no_catchup is True and item.mode == "ENABLE"
    assert standin.cluster.experiment(item.experiment_id).display_name == "nightly"

    # The notebook changes after scheduling: the schedule still runs what was scheduled.
    _pipeline("100")
    (run_id,) = standin.recurring.fire_due(at("2099-01-05 03:00"))
    run = Run(backend, run_id).wait(120)
    assert run.info.state is RunState.SUCCEEDED and run.info.parameters == {"scale": 5}
    local = standin.cluster.local_run(run_id)
    assert local.metrics["train.score"] == 5.0  # 1 * 5: the snapshot, not the edit
    assert backend.get(run_id).schedule == "nightly"  # the run says which schedule started it
    assert standin.recurring.fire_due(at("2099-01-05 03:00") + 30) == []  # that minute fired once

    (listed,) = list_schedules(backend)
    assert listed.name == "nightly" and listed.last_run_id == run_id
    assert listed.next_run == at("2099-01-06 03:00")

    # Paused: nothing fires; resumed: KFP catches up the paused nights by the policy, "latest": one run.
    assert pause_schedule("nightly", backend).record.paused is True
    assert standin.recurring.fire_due(at("2099-01-08 03:00")) == []
    assert resume_schedule("nightly", backend).record.paused is False
    (caught_up,) = standin.recurring.fire_due(at("2099-01-08 03:00") + 60)
    assert standin.cluster.record(caught_up).display_name == "nightly-20990108030000"
    assert change("delete", "nightly", backend=backend) == "Schedule 'nightly' is deleted."
    assert list_schedules(backend) == []


def test_kfp_schedules_say_what_kfp_cannot_do(backend: KfpBackend) -> None:
    with pytest.raises(UsageError, match="KFP fires recurring runs on the cluster controller's clock"):
        schedule(_pipeline(), "0 3 * * *", name="paris", timezone="Europe/Paris", backend=backend)
    with pytest.raises(UsageError, match="there is no 'none'"):
        schedule(_pipeline(), "0 3 * * *", name="strict", catch_up="none", backend=backend)
    schedule(_pipeline(), "*/15 * * * *", name="often", catch_up="all", backend=backend)
    with pytest.raises(UsageError, match="a schedule named 'often' already exists on the KFP server"):
        schedule(_pipeline(), "0 3 * * *", name="often", backend=backend)
    with pytest.raises(NotFound, match=r"no schedule 'nope' on the KFP server .* \(schedules: often\)"):
        delete_schedule("nope", backend)


def test_missed_times_follow_the_catch_up_policy_on_kfp(standin: StandIn, backend: KfpBackend) -> None:
    import time

    schedule(_pipeline(), "0 * * * *", name="hourly-latest", backend=backend)
    schedule(_pipeline(), "0 * * * *", name="hourly-all", catch_up="all", backend=backend)
    later = (int(time.time()) // 3600 + 3) * 3600  # three hours ahead, on the hour
    fired = standin.recurring.fire_due(later + 59)  # no controller ran for three hourly times
    names = [standin.cluster.record(r).display_name for r in fired]
    stamp = datetime.fromtimestamp(later, timezone.utc).strftime("%Y%m%d%H%M%S")
    assert [n for n in names if n.startswith("hourly-latest")] == [f"hourly-latest-{stamp}"]  # the latest
    assert len([n for n in names if n.startswith("hourly-all")]) == 3  # backfill: every one

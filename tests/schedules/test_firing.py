"""Schedules fire at the right minute (the clock is injected), exactly once with two schedulers up, not
while paused, with the documented catch-up after downtime, and run the pipeline as it was scheduled."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import StepState
from jupyter_mlops.notebook.workspace import Workspace
from jupyter_mlops.schedules import pause_schedule, resume_schedule, schedule
from jupyter_mlops.schedules.handle import schedule_records
from jupyter_mlops.schedules.scheduler import tick


def at(text: str) -> float:
    """'2026-01-05 03:00' (UTC) as epoch seconds."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc).timestamp()


def _pipeline(value: str = "1") -> object:
    ws = Workspace("nightly")
    ws.define_params("scale = 2\n", "params")
    ws.define_component("train", f"score = {value} * scale\nlog_metric('score', score)\n", "train")
    return ws.active


@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalBackend:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    return LocalBackend(tmp_path / "home")


def _finished_score(backend: LocalBackend, run_id: str) -> float:
    from jupyter_mlops.run_handle import Run

    return Run(backend, run_id).wait(120).metrics["train.score"]


def test_a_schedule_fires_once_at_its_minute_with_its_arguments(
    backend: LocalBackend, tmp_path: Path
) -> None:
    made = schedule(_pipeline(), "0 3 * * *", arguments={"scale": 5}, backend=backend, working_dir=tmp_path,
                    now=at("2026-01-05 01:00"))  # fmt: skip
    assert made.next_run == at("2026-01-05 03:00")
    records = schedule_records(backend)
    assert tick(records, backend, at("2026-01-05 02:59")) == []
    fired = tick(records, backend, at("2026-01-05 03:00"))
    assert [(f.schedule, f.due, f.error) for f in fired] == [("nightly", at("2026-01-05 03:00"), None)]
    assert tick(records, backend, at("2026-01-05 03:00") + 40) == []  # the same minute: not again
    run = backend.get(fired[0].run_id or "")
    assert run.name == "nightly-20260105-0300" and run.experiment == "nightly"
    assert run.parameters == {"scale": 5}
    assert _finished_score(backend, run.id) == 5.0
    assert records.schedule_of_run(run.id) == "nightly"  # a run knows which schedule started it
    _shows_its_schedule(backend, run.id, "nightly")
    nxt = tick(records, backend, at("2026-01-06 03:00"))
    assert len(nxt) == 1 and nxt[0].run_id != run.id


def _shows_its_schedule(backend: LocalBackend, run_id: str, name: str) -> None:
    """The run as every view reads it says which schedule started it; a run started by hand says none."""
    from jupyter_mlops.compiler import compile_yaml
    from jupyter_mlops.render.runs_text import runs_text
    from jupyter_mlops.server.run_json import run_summary

    manual = backend.submit(compile_yaml(_pipeline()), {"scale": 1}, experiment=name)
    assert backend.get(run_id).schedule == name
    listed = {r.id: r for r in backend.list_runs(limit=100).runs}
    assert listed[run_id].schedule == name
    assert run_summary(listed[run_id])["schedule"] == name  # the sidebar's row
    assert f"(schedule {name})" in runs_text([listed[run_id]])  # `jupyter-mlops runs`
    assert listed[manual.id].schedule is None and backend.get(manual.id).schedule is None
    assert "(schedule" not in runs_text([listed[manual.id]])
    # `%pipeline runs`: a "schedule" column once a listed run was started by one
    from jupyter_mlops.widgets.runs_widget import cell_text, run_row, table_columns

    rows = [run_row(listed[run_id]), run_row(listed[manual.id])]
    (column,) = [c for c in table_columns(rows) if c["key"] == "schedule"]
    assert [cell_text(r, column) for r in rows] == [name, ""]
    assert not [c for c in table_columns(rows[1:]) if c["key"] == "schedule"]


def test_time_zones_are_explicit(backend: LocalBackend, tmp_path: Path) -> None:
    made = schedule(_pipeline(), "0 3 * * *", timezone="Europe/Paris", backend=backend, working_dir=tmp_path,
                    now=at("2026-01-05 00:00"))  # fmt: skip
    assert made.next_run == at("2026-01-05 02:00")  # 03:00 in Paris is 02:00 UTC in winter
    summer = schedule(_pipeline(), "0 3 * * *", name="summer", timezone="Europe/Paris", backend=backend,
                      working_dir=tmp_path, now=at("2026-07-05 00:00"))  # fmt: skip
    assert summer.next_run == at("2026-07-05 01:00")  # and 01:00 UTC in summer time
    with pytest.raises(Exception, match="unknown time zone 'Mars/Olympus'"):
        schedule(_pipeline(), "0 3 * * *", name="x", timezone="Mars/Olympus", backend=backend)
    with pytest.raises(Exception, match="not a cron expression"):
        schedule(_pipeline(), "0 3 * *", name="y", backend=backend)
    with pytest.raises(Exception, match="scale"):
        schedule(_pipeline(), "0 3 * * *", name="z", arguments={"scael": 1}, backend=backend)


def test_two_schedulers_ticking_together_fire_a_due_time_exactly_once(
    backend: LocalBackend, tmp_path: Path
) -> None:
    schedule(_pipeline(), "*/5 * * * *", backend=backend, working_dir=tmp_path, now=at("2026-01-05 03:01"))
    home = tmp_path / "home"
    fired: list[object] = []
    start = threading.Barrier(8)

    def scheduler() -> None:
        own = LocalBackend(home)  # each its own store connection, as two processes have
        start.wait()
        fired.extend(tick(schedule_records(own), own, at("2026-01-05 03:05"), "t"))

    threads = [threading.Thread(target=scheduler) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(fired) == 1
    assert len(backend.list_runs(experiment="nightly").runs) == 1


def test_of_schedulers_that_all_saw_a_time_due_only_one_may_fire_it(
    backend: LocalBackend, tmp_path: Path
) -> None:
    made = schedule(
        _pipeline(), "*/5 * * * *", backend=backend, working_dir=tmp_path, now=at("2026-01-05 03:01")
    )
    due = at("2026-01-05 03:05")
    won: list[bool] = []
    start = threading.Barrier(8)

    def scheduler(n: int) -> None:
        records = schedule_records(LocalBackend(tmp_path / "home"))
        start.wait()  # all have read the schedule as due; now each tries to take the time
        won.append(records.claim(made.record.id, due, f"scheduler {n}"))

    threads = [threading.Thread(target=scheduler, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(won) == [False] * 7 + [True]
    records = schedule_records(backend)
    assert records.claim(made.record.id, due, "late") is False
    pause_schedule("nightly", backend=backend)
    assert records.claim(made.record.id, at("2026-01-05 03:10"), "paused") is False


def test_a_paused_schedule_does_not_fire_and_resumes_from_now(backend: LocalBackend, tmp_path: Path) -> None:
    schedule(_pipeline(), "0 * * * *", backend=backend, working_dir=tmp_path, now=at("2026-01-05 00:30"))
    records = schedule_records(backend)
    pause_schedule("nightly", backend=backend)
    assert tick(records, backend, at("2026-01-05 01:00")) == []
    assert tick(records, backend, at("2026-01-05 03:00")) == []
    records.set_paused("nightly", False, now=at("2026-01-05 03:10"))  # resumed at 03:10
    assert tick(records, backend, at("2026-01-05 03:30")) == []  # 01:00..03:00 fell due while paused
    fired = tick(records, backend, at("2026-01-05 04:00"))
    assert [f.due for f in fired] == [at("2026-01-05 04:00")]
    assert resume_schedule("nightly", backend=backend).record.paused is False


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("latest", ["2026-01-08 03:00"]),
        ("all", ["2026-01-06 03:00", "2026-01-07 03:00", "2026-01-08 03:00"]),
        ("none", []),
    ],
)
def test_missed_times_after_downtime_follow_the_catch_up_policy(
    backend: LocalBackend, tmp_path: Path, policy: str, expected: list[str]
) -> None:
    schedule(_pipeline(), "0 3 * * *", catch_up=policy, backend=backend, working_dir=tmp_path,
             now=at("2026-01-05 12:00"))  # fmt: skip
    records = schedule_records(backend)
    fired = tick(records, backend, at("2026-01-08 10:00"))  # no scheduler ran for three days
    assert [f.due for f in fired] == [at(t) for t in expected]
    notes = [f.error for f in records.fires(records.get("nightly").id) if f.run_id is None]
    skipped = 3 - len(expected)
    if skipped:
        assert notes == [
            f"skipped {skipped} missed time(s), 2026-01-06 03:00 UTC to 2026-01-0{5 + skipped} 03:00 UTC, "
            f"while no scheduler ran (catch-up: {policy})"
        ]
    assert tick(records, backend, at("2026-01-08 10:01")) == []  # and nothing of it again


def test_a_scheduled_notebook_edited_afterwards_runs_the_snapshot(
    backend: LocalBackend, tmp_path: Path
) -> None:
    ws = Workspace("nightly")
    ws.define_params("scale = 2\n", "params")
    ws.define_component("train", "score = 1 * scale\nlog_metric('score', score)\n", "train")
    schedule(ws.active, "0 3 * * *", backend=backend, working_dir=tmp_path, now=at("2026-01-05 01:00"))
    ws.define_component("train", "score = 100 * scale\nlog_metric('score', score)\n", "train")  # edited
    ws.define_params("scale = 7\n", "params")
    fired = tick(schedule_records(backend), backend, at("2026-01-05 03:00"))
    assert _finished_score(backend, fired[0].run_id or "") == 2.0  # the code and default as scheduled


@pytest.mark.parametrize(("cache", "second"), [(False, StepState.SUCCEEDED), (True, StepState.CACHED)])
def test_scheduled_runs_run_every_step_afresh_unless_asked_to_cache(
    backend: LocalBackend, tmp_path: Path, cache: bool, second: StepState
) -> None:
    schedule(_pipeline(), "0 3 * * *", cache=cache, backend=backend, working_dir=tmp_path,
             now=at("2026-01-05 01:00"))  # fmt: skip
    records = schedule_records(backend)
    runs = []
    for day in (5, 6):  # one night after the other: the second run starts once the first has ended
        runs.append(tick(records, backend, at(f"2026-01-0{day} 03:00"))[0].run_id or "")
        _finished_score(backend, runs[-1])
    assert backend.get(runs[0]).step("train").state is StepState.SUCCEEDED
    assert backend.get(runs[1]).step("train").state is second

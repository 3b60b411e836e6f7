"""Several processes writing one store while another reads: nothing lost, nothing locked out."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from jupyter_mlops.models import RunState
from jupyter_mlops.store import RunStore

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from jupyter_mlops.models import MetricPoint, RunState, StepInfo, StepState
    from jupyter_mlops.store import RunStore

    home, worker, shared = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    store = RunStore(home)
    for i in range(40):
        run_id = f"w{worker}-{i}"
        store.create_run(run_id=run_id, name=run_id, experiment=f"exp{worker}", pipeline_name="p",
                         parameters={"i": i}, steps=["s"])
        store.mark_running(run_id, 1, "h")
        store.record_step(run_id, StepInfo("s", StepState.SUCCEEDED, attempts=1, outputs={"i": i}))
        store.record_metric(MetricPoint(run_id, "s", "m", float(i)))
        store.finish_run(run_id, RunState.SUCCEEDED)
        # every writer also appends to one shared run: its event numbers must stay unique and gapless
        store.record_metric(MetricPoint(shared, None, f"from-{worker}", float(i)))
        store.record_step(shared, StepInfo(f"step-{worker}-{i}", StepState.SUCCEEDED))
    """
)

READER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from jupyter_mlops.store import RunStore

    store = RunStore(Path(sys.argv[1]))
    for _ in range(200):
        page = store.list_runs(limit=50)
        assert len(page.runs) <= 50 and page.total >= len(page.runs)
        for run in page.runs[:3]:
            store.get_run(run.id)
    """
)


def test_four_writers_and_a_reader_at_once(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.create_run(run_id="shared", name="shared", experiment=None, pipeline_name="p", parameters={})
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(w), "shared"]) for w in range(4)
    ]
    procs.append(subprocess.Popen([sys.executable, "-c", READER, str(tmp_path)]))
    assert [p.wait(timeout=300) for p in procs] == [0] * 5

    page = store.list_runs(limit=1000, state=RunState.SUCCEEDED)
    assert page.total == 160
    assert {e.name: e.run_count for e in store.experiments() if e.name != "Default"} == {
        f"exp{w}": 40 for w in range(4)
    }
    for w in range(4):
        run = store.get_run(f"w{w}-39")
        assert run.step("s").outputs == {"i": 39} and run.metrics == {"s.m": 39.0}
    shared = store.get_run("shared")
    assert len(shared.steps) == 160
    assert shared.metrics == {f"from-{w}": 39.0 for w in range(4)}
    events = store.events("shared")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # no duplicates or gaps
    assert len([e for e in events if e.kind == "step"]) == 160
    assert len([e for e in events if e.kind == "metric"]) >= 4  # at least each writer's first

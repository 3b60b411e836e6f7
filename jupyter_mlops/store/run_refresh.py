"""A run read again after some of its steps changed: the run's own row, those steps, and the steps added
since, instead of every step (issue 15: a live view of a 1,000-step run read all 1,000 rows, ~11 ms,
for every burst of changes; a chain changes one or two steps a burst).

The steps that changed are those the run's events name since the last read (`RunStore.record_step`
writes an event whenever a step's state or attempts change, and for every step it adds; a metric
event names the step it is for). What no event announces (a step's component or metrics between two
of its events) is read when the next event of that step comes, as a whole read would only have read
it at the next event too. Edges are written with the run and never change.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from ..models import RunInfo, StepInfo
from . import records
from .records import RUN_COLUMNS
from .run_store import RunStore

_CHUNK = 500  # names per IN (...) list: under SQLite's limit of bound variables


def refreshed_run(store: RunStore, previous: RunInfo, changed: Collection[str]) -> RunInfo:
    """`previous` (a `get_run` of the same run) with its own row and the steps named in `changed` read
    again; the steps not named are `previous`'s (not copied, not changed). A step added that no name
    in `changed` covers (no writer adds one so) makes it a whole read."""
    run_id = previous.id
    names = sorted(set(changed))
    known = {s.name for s in previous.steps}
    with store._read() as db:
        row = db.execute(
            f"SELECT {RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise store._not_found(run_id)
        count = int(db.execute("SELECT COUNT(*) FROM steps WHERE run_id = ?", (run_id,)).fetchone()[0])
        fresh: dict[str, tuple[int, StepInfo]] = {}
        for start in range(0, len(names), _CHUNK):
            chunk = names[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            for step in db.execute(
                f"SELECT * FROM steps WHERE run_id = ? AND name IN ({marks})", (run_id, *chunk)
            ):
                fresh[step["name"]] = (int(step["position"]), records.step_from_row(step))
            for m in db.execute(
                "SELECT step, name, value, MAX(id) FROM metrics WHERE run_id = ? AND step IS NOT NULL "
                f"AND step IN ({marks}) GROUP BY step, name",
                (run_id, *chunk),
            ):
                if m["step"] in fresh:
                    value = m["value"]
                    fresh[m["step"]][1].metrics[m["name"]] = float("nan") if value is None else value
    added = sorted(((p, s) for name, (p, s) in fresh.items() if name not in known), key=lambda a: a[0])
    if count != len(previous.steps) + len(added):
        return store.get_run(run_id)
    steps = [fresh[s.name][1] if s.name in fresh else s for s in previous.steps]
    steps += [s for _, s in added]
    return replace(records.run_from_row(row), steps=steps, edges=previous.edges)

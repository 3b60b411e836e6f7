"""A loop over a list known only at run time cannot make a run past MAX_STEPS (issue 12, item 4): the
loop step fails saying so, before any of its steps is made."""

from __future__ import annotations

from pathlib import Path

from backends.contract import explain, finished

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.ir.limits import MAX_STEPS
from jupyter_mlops.models import RunState


def test_a_loop_over_too_many_items_fails_naming_the_limit(home: Path) -> None:
    from backends.pipelines import compiled

    from . import escapees

    backend = LocalBackend(home)
    run = finished(
        backend, backend.submit(compiled(escapees.wide_loop), {"items": list(range(MAX_STEPS))}).id
    )
    assert run.state is RunState.FAILED, explain(run)
    assert "MAX_STEPS" in str(run.error)
    assert len(run.steps) < 10

"""`Run`: a handle on one run of any backend, as `mlops.run(...)` and `%pipeline run` return it.

(Not `run.py`: a submodule named `run` would shadow the function `jupyter_mlops.run` once imported.)

It holds only the backend and the run id; every property asks the backend (a finished run's record
is kept, since it no longer changes). In a notebook it shows as a table of steps; the live widget of
the run view can take over through `_repr_mimebundle_`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .models import RunInfo, RunState, StepState

if TYPE_CHECKING:
    from .backends.base import Backend

_WAIT_POLL_MIN_S = 0.05
_WAIT_POLL_MAX_S = 0.5


class Run:
    def __init__(self, backend: Backend, run_id: str, info: RunInfo | None = None) -> None:
        self.backend = backend
        self.id = run_id
        self._info = info

    @property
    def info(self) -> RunInfo:
        """The run's record, with steps, edges, parameters and latest metrics (fresh unless finished)."""
        if self._info is None or not self._info.state.terminal:
            self._info = self.backend.get(self.id)
        return self._info

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def state(self) -> RunState:
        return self.info.state

    @property
    def error(self) -> str | None:
        return self.info.error

    @property
    def tasks(self) -> dict[str, StepState]:
        """Step name -> state, in DAG order."""
        return {s.name: s.state for s in self.info.steps}

    @property
    def metrics(self) -> dict[str, float]:
        """ "step.metric" -> latest value (notebook-session metrics are keyed by their name alone)."""
        return dict(self.info.metrics)

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        """Step name -> {output name: value} for the steps that produced outputs (so far)."""
        return {s.name: dict(s.outputs) for s in self.info.steps if s.outputs}

    def logs(self, step: str) -> str:
        """All of `step`'s log written so far (stdout and stderr)."""
        parts: list[str] = []
        offset = 0
        while True:
            chunk = self.backend.logs(self.id, step, offset)
            parts.append(chunk.text)
            if chunk.next_offset == offset:
                return "".join(parts)
            offset = chunk.next_offset

    def cancel(self) -> Run:
        """Ask the backend to cancel: running steps are stopped, pending ones never start."""
        self._info = self.backend.cancel(self.id)
        return self

    def wait(self, timeout: float | None = None) -> Run:
        """Block until the run has finished (any final state); TimeoutError after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = _WAIT_POLL_MIN_S
        while not self.info.state.terminal:
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"run {self.id} ({self.info.name}) is still {self.info.state.value} after {timeout} s; "
                    "call .wait() again to keep waiting, or .cancel() it"
                )
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            time.sleep(pause if remaining is None else min(pause, remaining))
            pause = min(_WAIT_POLL_MAX_S, pause * 1.5)
        return self

    # -- display ------------------------------------------------------------------------------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        """In a notebook a run is its live view (widget, static SVG, text): `jupyter_mlops.views`."""
        from .widgets import run_view

        return run_view(self.backend, self.id)._repr_mimebundle_(include=include, exclude=exclude)

    def _ipython_display_(self) -> None:
        """Shown by IPython, the view keeps its display id, so the output saved in the notebook is
        replaced by the run's final state when it ends (what nbconvert and GitHub then show)."""
        from .widgets import run_view

        run_view(self.backend, self.id)._ipython_display_()

    def __repr__(self) -> str:
        info = self._info
        state = info.state.value if info is not None else "?"
        return f"Run(id={self.id!r}, name={info.name if info else ''!r}, state={state})"

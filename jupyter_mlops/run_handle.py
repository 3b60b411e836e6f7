"""`Run`: a handle on one run of any backend, as `mlops.run(...)` and `%pipeline run` return it.

(Not `run.py`: a submodule named `run` would shadow the function `jupyter_mlops.run` once imported.)

It holds only the backend and the run id; every property asks the backend (a finished run's record
is kept, since it no longer changes). In a notebook it shows as a table of steps; the live widget of
the run view can take over through `_repr_mimebundle_`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .models import RunInfo, RunState, StepState
from .store.run_notify import backend_watch

if TYPE_CHECKING:
    from .backends.base import Backend
    from .store.run_values import StepOutputs

_WAIT_POLL_MIN_S = 0.05
_WAIT_POLL_MAX_S = 0.5
# With changes pushed (the local backend's run_notify), the store is still read this often while
# waiting: a runner killed by SIGKILL announces nothing, and a read is what notices it is gone.
_WAIT_CHECK_S = 0.5
WAIT_GRACE_S = 60.0  # how long wait() rides out a backend it cannot reach before it gives up


class LogText(str):
    """A step's log: a str, shown as its lines (not as a quoted repr) as a cell's last value."""

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


class Run:
    def __init__(
        self, backend: Backend, run_id: str, info: RunInfo | None = None, *, listed: RunInfo | None = None
    ) -> None:
        self.backend = backend
        self.id = run_id
        self._info = info
        self._listed = listed  # the run's row in a listing (no steps): what repr shows without a read
        self._outputs: dict[str, StepOutputs] | None = None

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
    def outputs(self) -> dict[str, StepOutputs]:
        """Step name -> {output name: value}, by the names the cells gave them, for the steps that produced
        outputs (so far). A value is loaded when first read (numpy, pandas, JSON or pickle, as the step
        stored it), then kept: `run.outputs["make_df"]["df"]`."""
        if not self.backend.capabilities.outputs:  # an empty answer would look like "no outputs"
            from .errors import Unsupported

            link = getattr(self.backend, "run_url", None)
            where = f": see the run in the KFP UI, {link(self.id)}" if callable(link) else ""
            raise Unsupported(f"the {self.backend.name} backend does not read step output values back{where}")
        from .ir.step_sources import run_step_sources
        from .store.run_values import step_outputs

        if self._outputs is not None:
            return self._outputs
        info = self.info
        sources = run_step_sources(self.backend, self.id)
        variables = {name: {a: v for a, (v, _) in s.outputs.items()} for name, s in sources.items()}
        artifacts = self.backend.artifacts(self.id)
        result_names = {name: s.result_name for name, s in sources.items()}
        fetch = getattr(self.backend, "local_artifact", None)  # kfp: artifact bytes, downloaded on first use
        outputs: dict[str, StepOutputs] = step_outputs(
            self.id,
            info.steps,
            artifacts,
            variables,
            result_names=result_names,
            fetch=fetch if callable(fetch) else None,
        )
        link = getattr(self.backend, "run_url", None)
        if not self.backend.capabilities.artifact_download and callable(link):
            from .remote_outputs import RemoteOutputs

            outputs = RemoteOutputs(outputs, artifacts, link(self.id))  # says where artifact values are
        if info.state.terminal:
            self._outputs = outputs  # a finished run's outputs no longer change: keep what was loaded
        return outputs

    def artifact_path(self, step: str, name: str) -> Path:
        """The file holding output `name` of `step` (the artifact's folder when it is not one file)."""
        outputs = self.outputs
        if step not in outputs:
            self.info.step(step)  # names the steps when there is no such step
            raise KeyError(f"step {step!r} of run {self.id} stored no outputs")
        return outputs[step].path(name)

    def figures(self, step: str) -> Any:
        """What `step` showed, in order: the figures it drew and the values it display()ed, as IPython
        display objects (a cell ending with `run.figures("plot")` shows them all)."""
        from .store.run_figures import display_objects, figures_artifact

        self.info.step(step)  # names the steps when there is no such step
        return display_objects(figures_artifact(self.backend.artifacts(self.id), step))

    def logs(self, step: str, *, executor_lines: bool = False) -> LogText:
        """All of `step`'s log written so far (stdout and stderr); shown in a notebook as the text.

        As `%pipeline logs` and `jupyter-mlops logs` show it: without the lines kfp's executor writes
        around the step's own output (where it found the component, its input as JSON) and without
        the step runner's frames above the cell in a traceback, unless `executor_lines=True` (every
        line, as the log file and a cluster keep it)."""
        parts: list[str] = []
        offset = 0
        while True:
            chunk = self.backend.logs(self.id, step, offset)
            parts.append(chunk.text)
            if chunk.next_offset == offset:
                break
            offset = chunk.next_offset
        text = "".join(parts)
        if not executor_lines:
            from .render.log_filter import RUN_LOGS, without_executor_lines, without_runner_frames

            text = without_runner_frames(without_executor_lines(text), RUN_LOGS)
        return LogText(text)

    def cancel(self) -> Run:
        """Ask the backend to cancel: running steps are stopped, pending ones never start."""
        self._info = self.backend.cancel(self.id)
        return self

    def wait(self, timeout: float | None = None, *, grace: float = WAIT_GRACE_S) -> Run:
        """Block until the run has finished (any final state); TimeoutError after `timeout` seconds.

        A backend that cannot be reached for a moment (a KFP server restarting, a dropped connection,
        a 5xx) is asked again for up to `grace` seconds; after that, or at once for a refusal (401/403)
        or a run deleted on the server, the error says so. The run itself goes on where it runs:
        `wait()` again once the server is back."""
        from .errors import BackendUnavailable

        deadline = None if timeout is None else time.monotonic() + timeout
        if self._info is not None and self._info.state.terminal:
            return self
        # made before the state is read: no change is missed
        watch = backend_watch(self.backend, self.id, states_only=True)
        try:
            pause = _WAIT_POLL_MIN_S
            lost_since: float | None = None
            while True:
                try:
                    state = self._current_state()
                    lost_since = None
                except BackendUnavailable as exc:
                    now = time.monotonic()
                    lost_since = now if lost_since is None else lost_since
                    if now - lost_since >= grace:
                        raise type(exc)(
                            f"run {self.id}: stopped waiting after {grace:g} s without an answer: {exc}. "
                            "The run goes on there: call .wait() again once the server is back"
                        ) from None
                    state = RunState.RUNNING  # not known: keep waiting, a second apart
                if state.terminal:
                    return self
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"run {self.id} ({self._info.name if self._info else '?'}) is still {state.value} "
                        f"after {timeout} s; "
                        "call .wait() again to keep waiting, or .cancel() it"
                    )
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                if watch is not None and watch.pushed and lost_since is None:
                    watch.wait(_WAIT_CHECK_S if remaining is None else min(_WAIT_CHECK_S, remaining))
                    continue
                step = 1.0 if lost_since is not None else pause
                time.sleep(step if remaining is None else min(step, remaining))
                pause = min(_WAIT_POLL_MAX_S, pause * 1.5)
        finally:
            if watch is not None:
                watch.close()

    def _current_state(self) -> RunState:
        """The run's state as `wait` checks it: the backend's read of the state alone where it has one
        (the local store's row of the run: re-reading a 1,000-step run's steps every half second made
        waiting cost more the longer the pipeline), the whole record once the run has ended."""
        read_state = getattr(self.backend, "run_state", None)
        if read_state is None:
            return self.info.state
        state = RunState(read_state(self.id))
        if state.terminal:
            return self.info.state
        return state

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
        """`Run(id=..., name=..., state=...)`: the state as of the last read, read now if the run had
        not ended then (a listed run that ended is not read again: `mlops.runs()` shows at once)."""
        info = self._info or self._listed
        if info is None or not info.state.terminal:
            try:
                info = self.info
            except Exception:  # a repr must not raise: a backend out of reach shows what is known
                pass
        state = info.state.value if info is not None else "?"
        return f"Run(id={self.id!r}, name={info.name if info else ''!r}, state={state})"

"""The live run view: a widget that draws a run's DAG and follows it until the run ends.

A daemon thread in the kernel asks the backend for events after the last one seen (cheap), fetches the
run only when something changed, and pushes a compact JSON of the steps into a synced traitlet. It stops
when the run reaches a terminal state, so a finished view costs nothing. Clicking a step sends a custom
message; the kernel answers with the step's log tail, inputs, outputs, metrics and error.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import traitlets

from ..backends.base import Backend
from ..errors import MlopsError, RunNotFound
from ..models import RunEvent, RunInfo
from ..render.finite_json import finite_json
from ..render.layout import Layout, layout_dag
from ..render.log_filter import NOTEBOOK_VIEW, ShownLog
from ..render.style import DONE_STATES, RUN_DONE_STATES, STATE_STYLES, progress, state_name
from ..render.svg import render_pipeline_static, render_pipeline_text, render_run_static, render_run_text
from ..store.run_notify import RunWatch, backend_watch
from .esm import STATIC, esm
from .mime import MimeView, widget_frontend_available

LOG_TAIL_CHARS = 16_000
POLL_INTERVAL = 0.1  # an events() query costs ~0.1 ms: a short interval buys latency cheaply
PUSHED_LOOK_S = 0.5  # with changes pushed, the store is still read this often
PUSHED_MIN_S = 0.05  # and at most this often: a burst of changes is read once
ERROR_BACKOFF = 2.0  # after a backend error, wait longer before asking again


def run_payload(info: RunInfo, now: float | None = None) -> dict[str, Any]:
    """The compact state the front end draws from: run header plus, per step, state and times."""
    done, total = progress(info)
    return {
        "id": info.id,
        "name": info.name,
        "state": state_name(info.state),
        "terminal": state_name(info.state) in RUN_DONE_STATES,  # the view asks; it keeps no state list
        "experiment": info.experiment,
        "error": info.error,
        "created_at": info.created_at,
        "started_at": info.started_at,
        "finished_at": info.finished_at,
        "server_time": time.time() if now is None else now,
        "done": done,
        "total": total,
        "metrics": finite_json(dict(sorted(info.metrics.items()))),  # "step.metric" -> latest value
        "steps": {
            s.name: {
                "s": state_name(s.state),
                "end": state_name(s.state) in DONE_STATES,  # final: nothing of it changes any more
                "t0": s.started_at,
                "t1": s.finished_at,
                "err": bool(s.error),
            }
            for s in info.steps
        },
    }


def jsonable(value: Any, limit: int = 400) -> Any:
    """Values of step inputs/outputs as JSON; anything else as a shortened repr (never fails)."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return {"repr": _short(repr(value), limit)}
    return finite_json(value) if len(text) <= limit else {"repr": _short(text, limit)}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DagView(MimeView):
    """A not-yet-run pipeline (`%pipeline show`): steps, and the data names on the edges."""

    _esm = esm("dag.js", "results.js")
    _css = STATIC / "dag.css"
    dag = traitlets.Dict().tag(sync=True)  # the DAG's drawing (not `layout`: ipywidgets' Layout model)
    styles = traitlets.Dict().tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        steps: list[str],
        edges: list[tuple[str, str]],
        labels: dict[tuple[str, str], str] | None = None,
    ) -> None:
        self._steps, self._edges, self._labels = list(steps), list(edges), dict(labels or {})
        self._layout = layout_dag(self._steps, self._edges, labels=self._labels)
        super().__init__(dag=self._layout.to_json(), styles=STATE_STYLES)

    def static_html(self) -> str:
        return render_pipeline_static(self._layout)

    def text(self) -> str:
        return render_pipeline_text(self._steps, self._edges, self._labels)


class RunView(MimeView):
    """A run, live. `run_view(backend, run_id)` builds one; displaying it starts nothing new."""

    _esm = esm("dag.js", "results.js")
    _css = STATIC / "dag.css"
    run = traitlets.Dict().tag(sync=True)
    dag = traitlets.Dict().tag(sync=True)  # the DAG's drawing (not `layout`: ipywidgets' Layout model)
    styles = traitlets.Dict().tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    watching = traitlets.Bool(False).tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)  # why the view stopped or cannot update

    def __init__(
        self,
        backend: Backend,
        run_id: str,
        *,
        poll_interval: float = POLL_INTERVAL,
        live: bool | None = None,
    ) -> None:
        """`live`: follow the run while it goes on (default: only where a widget can show it, i.e. in a
        Jupyter kernel; terminal IPython prints a summary once and needs no thread)."""
        # First: if reading the run fails below, ipywidgets' __del__ still calls close() -> stop().
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.backend = backend
        self.run_id = run_id
        self.poll_interval = poll_interval
        if live is None:
            live = widget_frontend_available()
        self._seq = 0
        # Changes pushed by the local backend (store/run_notify.py), made before the first read so none
        # is missed; the view still looks every PUSHED_LOOK_S (a runner killed silently).
        self._watch: RunWatch | None = backend_watch(backend, run_id) if live else None
        self._looked = 0.0  # when the view last read the run after a push (monotonic)
        if live:  # the seq first, then the run: the run is at least as new as the seq, nothing is missed
            events = backend.events(run_id, after=0)
            self._seq = events[-1].seq if events else 0
        self.info: RunInfo = backend.get(run_id)
        self._layout, self._shape = self._layout_for(self.info)
        # step -> (log tail, next offset, start cut off, the filter's state)
        self._logs: dict[str, tuple[str, int, bool, ShownLog]] = {}
        super().__init__(run=run_payload(self.info), dag=self._layout.to_json(), styles=STATE_STYLES)
        self.on_msg(self._on_frontend_msg)
        if self._watch is not None and (not live or self.info.state.terminal):
            self._watch.close()  # nothing to follow
            self._watch = None
        if live and not self.info.state.terminal:
            self.watching = True
            self._thread = threading.Thread(target=self._poll, name=f"mlops-view-{run_id}", daemon=True)
            self._thread.start()

    # -- watching the run ---------------------------------------------------------------------------
    def _stopped(self, wait: float) -> bool:
        """Wait for a change (pushed) or `wait` seconds; True once the view was stopped. Changes that
        come in a burst (a chain of quick steps) are shown together, at most every PUSHED_MIN_S."""
        if self._watch is not None and self._watch.pushed:
            since = time.monotonic() - self._looked
            if since < PUSHED_MIN_S and self._stop.wait(PUSHED_MIN_S - since):
                return True
            self._watch.wait(max(wait, PUSHED_LOOK_S))
            self._looked = time.monotonic()
            return self._stop.is_set()
        return self._stop.wait(wait)

    def _poll(self) -> None:
        wait = self.poll_interval
        try:
            while not self._stopped(wait):
                try:
                    events = self.backend.events(self.run_id, after=self._seq)
                    if not events:
                        wait = self.poll_interval
                        continue
                    self._seq = events[-1].seq
                    info = self._read_again(events)
                except RunNotFound as e:
                    self.message = f"stopped following the run: {e}"
                    return
                except MlopsError as e:  # the backend's own one-line account (unreachable, 401, ...)
                    self.message = f"{e}; showing the last state seen, asking again every {ERROR_BACKOFF:g} s"
                    wait = ERROR_BACKOFF
                    continue
                except Exception as e:  # keep the view alive across a backend hiccup, and say so
                    self.message = f"cannot reach the backend ({type(e).__name__}: {e}); retrying"
                    wait = ERROR_BACKOFF
                    continue
                wait = self.poll_interval
                if self.message:
                    self.message = ""
                self._apply(info)
                if info.state.terminal:
                    return
        finally:
            self.watching = False
            if self._watch is not None:
                self._watch.close()
            if self.info.state.terminal:
                self.refresh_displays()  # the notebook's saved static HTML now shows the final state

    def _read_again(self, events: list[RunEvent]) -> RunInfo:
        """The run after `events`: the steps they name read again where the backend can (the local one,
        store/run_refresh.py: a burst of a 1,000-step chain reads 2 rows, not 1,000), else all of it; a
        change of the run's own state (its start, its end) reads all of it."""
        reread = getattr(self.backend, "reread_steps", None)
        if not callable(reread) or any(e.kind == "run" for e in events):
            return self.backend.get(self.run_id)
        fresh: RunInfo = reread(self.info, {e.step for e in events if e.step})
        # ended meanwhile (a reader found its runner dead and closed its steps): the end whole
        return self.backend.get(self.run_id) if fresh.state.terminal else fresh

    def _apply(self, info: RunInfo) -> None:
        with self._lock:
            self.info = info
            if self._shape_of(info) != self._shape:  # steps appeared (reported as they start)
                self._layout, self._shape = self._layout_for(info)
                self.dag = self._layout.to_json()
            self.run = run_payload(info)  # the layout is not recomputed for a change of state

    @staticmethod
    def _shape_of(info: RunInfo) -> tuple[Any, ...]:
        return (tuple(s.name for s in info.steps), tuple(info.edges))

    @classmethod
    def _layout_for(cls, info: RunInfo) -> tuple[Layout, tuple[Any, ...]]:
        return layout_dag([s.name for s in info.steps], info.edges), cls._shape_of(info)

    def settle(self, timeout: float = 5.0) -> None:
        """Wait, briefly, until the view has shown the run's final state: a cell that waited for the run
        then ends with its view final, which is what the saved notebook (and a widget-state capture
        such as nbclient's) keeps."""
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout)

    def stop(self) -> None:
        """Stop following the run (the view keeps showing what it last saw)."""
        self._stop.set()
        if self._watch is not None:
            self._watch.wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def close(self) -> None:
        self.stop()
        super().close()

    @property
    def polling(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- a step's details, on request from the front end ----------------------------------------------
    def _on_frontend_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "detail":
            step = str(content.get("step", ""))
            self.send({"type": "detail", "step": step, **self.step_detail(step)})
        elif isinstance(content, dict) and content.get("type") == "debug":  # the failed step's button
            from .debug_step import debug_in_kernel

            self.send(debug_in_kernel(self.backend, self.run_id, str(content.get("step", ""))))

    def step_detail(self, step: str) -> dict[str, Any]:
        """What the side panel shows for one step; also usable from Python."""
        try:
            info = self.info.step(step)
        except KeyError as e:
            return {"missing": str(e.args[0])}
        from ..ir.step_sources import run_step_sources
        from ..render.values_shown import output_previews, shown_inputs, shown_outputs

        try:
            artifacts = self.backend.artifacts(self.run_id)
        except Exception:  # a backend that cannot list them: values are shown as recorded
            artifacts = []
        source = run_step_sources(self.backend, self.run_id).get(step)
        names = source.variables if source is not None else {}
        detail: dict[str, Any] = {
            "state": state_name(info.state),
            "started_at": info.started_at,
            "finished_at": info.finished_at,
            "attempts": info.attempts,
            "error": info.error,
            "inputs": {k: jsonable(v) for k, v in shown_inputs(info, artifacts, names).items()},
            "outputs": {k: jsonable(v) for k, v in shown_outputs(info, artifacts, names).items()},
            "metrics": finite_json(dict(info.metrics)),
            "previews": finite_json(output_previews(info, artifacts, names)),
        }
        from ..tensorboards.links import tensorboard_link

        detail["tensorboard"] = tensorboard_link(self.backend, self.run_id, step)  # None: no link
        history = getattr(getattr(self.backend, "store", None), "metric_history", None)
        if callable(history) and info.metrics:  # the local backend keeps every point
            from ..render.metric_histories import step_histories

            detail["histories"] = step_histories(history(self.run_id), step)
        if info.state.terminal:  # what the step showed, once it has finished (sent once, not per poll)
            from ..store.run_figures import figures_artifact, figures_for_view

            detail["figures"] = figures_for_view(figures_artifact(artifacts, step))
            from ..store.kfp_artifacts import visual_artifacts

            detail["visuals"] = finite_json(visual_artifacts(artifacts, step))
        try:
            detail["log"], detail["log_truncated"] = self.log_tail(step)
        except Exception as e:  # the rest of the panel is still worth showing
            detail["log"], detail["log_truncated"] = f"(log not available: {e})", False
        return detail

    def log_tail(self, step: str) -> tuple[str, bool]:
        """The end of a step's log without kfp's executor bookkeeping and the step runner's traceback
        frames above the cell (render/log_filter.py), as a terminal shows it (render/terminal_text.py),
        read incrementally from where the last request stopped; True if its start was cut off."""
        from ..render.terminal_text import as_a_terminal_shows

        text, offset, truncated, lines = self._logs.get(step) or ("", 0, False, ShownLog(NOTEBOOK_VIEW))
        for _ in range(64):  # a bounded number of chunks per request
            chunk = self.backend.logs(self.run_id, step, offset)
            if chunk.next_offset <= offset and not chunk.text:
                break
            text = as_a_terminal_shows(text + lines.push(chunk.text, final=chunk.complete))  # bars: one line
            offset = chunk.next_offset
            if len(text) > LOG_TAIL_CHARS:
                text, truncated = text[-LOG_TAIL_CHARS:], True
            if chunk.complete or not chunk.text:
                break
        self._logs[step] = (text, offset, truncated, lines)
        return text, truncated

    # -- static renderings ----------------------------------------------------------------------------
    def static_html(self) -> str:
        return render_run_static(self.info, self._layout)

    def text(self) -> str:
        return render_run_text(self.info)

"""The run subcommands of `%pipeline`: run, runs, status, logs, cancel, experiments, compare, backend.

Thin: each parses its words and calls the API, the backend and the views.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import SubmitInterrupted, UsageError, WaitInterrupted
from ..notebook.options import _Parser, positive_int

if TYPE_CHECKING:
    from ..backends.base import Backend
    from ..notebook.workspace import Workspace
    from ..run_handle import Run


class SessionState(Protocol):
    """What the run subcommands read and set on the kernel's `PipelineMagics` (so this module need
    not import the cell magics, which dispatch to it)."""

    shell: Any
    workspace: Workspace
    last_run_id: str | None
    backend_name: str
    backend_options: dict[str, Any]
    notebook_folder: str  # where the steps of its runs work (notebook/folder.py)


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def notebook_run(run: Run, shell: Any) -> Run:
    """The `Run` a magic returns: its live view is already on screen, so as the cell's value it shows
    nothing more; displayed in a later cell it is the live view."""
    from ..run_handle import Run

    class NotebookRun(Run):
        _shown_at = getattr(shell, "execution_count", None)

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
            if getattr(shell, "execution_count", None) == self._shown_at:
                return {"text/plain": repr(self)}
            from ..widgets import run_view

            view = run_view(self.backend, self.id)
            bundle = view._repr_mimebundle_(include=include, exclude=exclude)
            return bundle[0] if isinstance(bundle, tuple) else bundle

        def _ipython_display_(self) -> None:  # Run's display path, which the cell's value takes
            if getattr(shell, "execution_count", None) == self._shown_at:
                return  # the live view above is the run: no second, stale `Run(..., PENDING)` line
            super()._ipython_display_()

    return NotebookRun(run.backend, run.id, run._info)


def run_ref(shell: Any, ref: str) -> str:
    """A run as the user names it: an id, a unique id prefix, a run name, or a notebook variable that
    holds a run (`r1 = %pipeline run`, then `%pipeline compare r1 r2`): that run's id."""
    if not ref.isidentifier() or shell is None:
        return ref
    value = getattr(shell, "user_ns", {}).get(ref)
    from ..models import RunInfo
    from ..run_handle import Run

    return value.id if isinstance(value, (Run, RunInfo)) else ref


def subcommands(m: SessionState) -> dict[str, Callable[[list[str]], Any]]:
    def backend() -> Backend:
        from ..backends.registry import shared_backend

        return shared_backend(m.backend_name, **m.backend_options)  # one per kernel, reused

    def run_id(value: str | None, *, or_newest: bool = False) -> str:
        if value is not None:
            return run_ref(m.shell, value)
        if m.last_run_id is not None:
            return m.last_run_id
        if not or_newest:
            raise UsageError("no run yet in this session: name a run id (see %pipeline runs)")
        # A new kernel (or one restarted) has started no run: the last run is the store's newest.
        newest = backend().list_runs(limit=1).runs
        if not newest:
            raise UsageError("no runs yet: start one with %pipeline run")
        return newest[0].id

    def run(args: list[str]) -> Any:
        p = _Parser(prog="%pipeline run", add_help=False)
        p.add_argument("--backend")  # any registered backend; the registry names the choices
        p.add_argument("--experiment")
        p.add_argument("--name")
        p.add_argument("--pipeline")
        p.add_argument("--wait", action="store_true")
        p.add_argument("--no-cache", action="store_true")
        p.add_argument("--files", action="append", default=[])  # data files shipped to pods
        p.add_argument("assignments", nargs="*", default=[])
        opts = p.parse_args(args)
        from .. import api
        from ..notebook.pipeline import parse_assignments

        pipeline = m.workspace.get(opts.pipeline)
        arguments = parse_assignments(opts.assignments, pipeline)
        unknown = sorted(set(arguments) - set(pipeline.params))
        if unknown:
            known = ", ".join(pipeline.params) or "none"
            raise UsageError(
                f"pipeline {pipeline.name!r} has no parameter {', '.join(unknown)} (parameters: {known})"
            )
        target: Any = backend() if opts.backend in (None, m.backend_name) else opts.backend
        try:
            result = api.run(
                pipeline,
                arguments,
                backend=target,
                experiment=opts.experiment,
                name=opts.name,
                cache=not opts.no_cache,
                working_dir=m.notebook_folder,
                files=[f for given in opts.files for f in given.split(",") if f] or None,
            )
        except SubmitInterrupted as exc:  # submitted whole before the interrupt: `%pipeline status` finds it
            m.last_run_id = exc.run_id
            raise
        m.last_run_id = result.id
        from ..widgets import run_view
        from ..widgets.mime import widget_frontend_available

        try:
            if opts.wait and not widget_frontend_available():
                try:
                    result.wait()  # terminal IPython prints the view once: when there is an outcome
                finally:  # or where the run got to when the wait was interrupted (Ctrl+C)
                    _display(run_view(result.backend, result.id))
            else:
                view = run_view(result.backend, result.id)
                _display(view)  # live while the cell waits
                if opts.wait:
                    result.wait()
                    view.settle()  # the cell ends with the view showing how the run ended
        except KeyboardInterrupt:  # the stop button stops the waiting, not the run: say so, briefly
            raise WaitInterrupted(result.id) from None
        return notebook_run(result, m.shell)

    def runs(args: list[str]) -> Any:
        p = _Parser(prog="%pipeline runs", add_help=False)
        p.add_argument("--experiment")
        p.add_argument("--state")
        p.add_argument("--limit", type=positive_int, default=50)
        opts = p.parse_args(args)
        from ..widgets import runs_table

        return runs_table(backend(), experiment=opts.experiment, state=opts.state, limit=opts.limit)

    def status(args: list[str]) -> Any:
        if len(args) > 1:
            raise UsageError("%pipeline status takes at most one run id")
        from ..widgets import run_view

        return run_view(backend(), run_id(args[0] if args else None, or_newest=True))

    def logs(args: list[str]) -> None:
        p = _Parser(prog="%pipeline logs", add_help=False)
        p.add_argument("run")
        p.add_argument("step")
        p.add_argument("--follow", action="store_true")
        p.add_argument("--executor-lines", action="store_true")
        opts = p.parse_args(args)
        from ..run_follow import print_logs

        ref = run_ref(m.shell, opts.run)
        try:
            print_logs(
                backend(),
                ref,
                opts.step,
                follow=opts.follow,
                out=sys.stdout,
                executor_lines=opts.executor_lines,
            )
        except KeyboardInterrupt:  # how one stops --follow: the run goes on
            raise WaitInterrupted(ref, f"Stopped following the log of step {opts.step!r}") from None

    def cancel(args: list[str]) -> None:
        if len(args) > 1:
            raise UsageError("%pipeline cancel takes one run id")
        info = backend().cancel(run_id(args[0] if args else None))
        print(f"Run {info.id} is {info.state.value}.")

    def experiments(args: list[str]) -> Any:
        from ..run_follow import experiments_table

        return experiments_table(backend().experiments())

    def compare(args: list[str]) -> Any:
        if len(args) < 2:
            raise UsageError("%pipeline compare needs two or more run ids")
        from ..widgets import compare_view

        return compare_view(backend(), [run_ref(m.shell, a) for a in args])

    def set_backend(args: list[str]) -> None:
        if not args:
            print(f"backend: {backend().status()}")
            return
        p = _Parser(prog="%pipeline backend", add_help=False)
        p.add_argument("name")  # any registered backend; the registry names the choices
        p.add_argument("--host")
        p.add_argument("--namespace")
        opts = p.parse_args(args)
        options = {k: v for k, v in (("host", opts.host), ("namespace", opts.namespace)) if v}
        from ..backends.registry import set_default

        set_default(opts.name, **options)  # one that cannot be made is refused now; the default stays
        m.backend_name, m.backend_options = opts.name, options
        print(f"Default backend: {opts.name}")

    return {
        "run": run,
        "runs": runs,
        "status": status,
        "logs": logs,
        "cancel": cancel,
        "experiments": experiments,
        "compare": compare,
        "backend": set_backend,
    }

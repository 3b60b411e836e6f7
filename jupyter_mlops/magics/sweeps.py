"""`%pipeline sweep ...` and `%pipeline sweeps`: thin parsing over `jupyter_mlops.sweeps`.

%pipeline sweep lr=0.01,0.1,1 depth=2..8 --metric accuracy --goal max [--parallel N]
                [--random K | --search tpe --trials K] [--early-stop patience=N,target=V] [--name N] [--wait]
%pipeline sweep --best [NAME]      the best trial's parameters (a dict), printed
%pipeline sweep --stop [NAME]      stop: running trials are canceled, none start
%pipeline sweep --resume NAME      go on with an interrupted or stopped sweep
%pipeline sweeps                   the sweeps in the store
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import Interrupted, UsageError
from ..notebook.options import _Parser
from ..sweeps.options import add_arguments

if TYPE_CHECKING:
    from ..sweeps.handle import Sweep
    from .runs import SessionState


def _parser() -> _Parser:
    p = _Parser(prog="%pipeline sweep", add_help=False)
    p.add_argument("ranges", nargs="*", default=[])
    add_arguments(p)
    p.add_argument("--wait", action="store_true")
    p.add_argument("--best", action="store_true")
    p.add_argument("--stop", action="store_true")
    p.add_argument("--resume", metavar="NAME")
    return p


def notebook_sweep(sweep: Sweep, shell: Any) -> Sweep:
    """The handle a magic returns: its live view is on screen already, so echoed as the cell's value it
    is one line of text; displayed in a later cell it is the view again."""
    shown_at = getattr(shell, "execution_count", None)
    sweep._quiet = lambda: getattr(shell, "execution_count", None) == shown_at
    return sweep


def subcommands(m: SessionState) -> dict[str, Callable[[list[str]], Any]]:
    def backend() -> Any:
        from ..backends.registry import shared_backend

        return shared_backend(m.backend_name, **m.backend_options)  # the kernel's one backend

    def named(name: str | None) -> Sweep:
        from ..sweeps.handle import get_sweep

        name = name or getattr(m, "last_sweep", None)
        if name is None:
            raise UsageError("no sweep yet in this session: name one (see %pipeline sweeps)")
        return get_sweep(name, backend=backend())

    def show(handle: Sweep, wait: bool) -> Sweep:
        from ..sweeps.view import SweepView

        setattr(m, "last_sweep", handle.name)  # noqa: B010 (the magics object has no field for it)
        view = SweepView(handle)
        view.show()
        if wait:
            try:
                handle.wait()
            except KeyboardInterrupt:  # the stop button stops the waiting; the sweep goes on here
                raise Interrupted(
                    f"Stopped waiting: sweep {handle.name!r} goes on in this kernel. `%pipeline sweep "
                    f"--stop {handle.name}` stops it, `%pipeline sweep --best {handle.name}` gives its "
                    "best trial so far."
                ) from None
            finally:
                view.redraw()
        return notebook_sweep(handle, m.shell)

    def sweep_command(args: list[str]) -> Any:
        from ..sweeps import options

        opts = _parser().parse_intermixed_args(args)
        if opts.best or opts.stop:
            if len(opts.ranges) > 1:
                raise UsageError("%pipeline sweep --best/--stop takes at most one sweep name")
            handle = named(opts.ranges[0] if opts.ranges else None)
            if opts.stop:
                handle.stop()
                print(f"Sweep {handle.name!r} is {handle.state}.")
                return None
            best = handle.best_params
            print(
                f"Best of sweep {handle.name!r}: {handle.metric}={handle.best.value if handle.best else None}"
            )
            return best
        if opts.resume:
            if opts.ranges:
                raise UsageError("%pipeline sweep --resume NAME: the ranges are the sweep's own; give none")
            return show(options.resume(opts, opts.resume, backend=backend()), opts.wait)
        pipeline = m.workspace.get(opts.pipeline)
        started = options.start(opts, pipeline, opts.ranges, backend=backend(), working_dir=m.notebook_folder)
        return show(started, opts.wait)

    def sweeps(args: list[str]) -> Any:
        from ..sweeps.view import sweeps_table

        return sweeps_table(named_records(backend()))

    return {"sweep": sweep_command, "sweeps": sweeps}


def named_records(backend: Any) -> Any:
    from ..sweeps.handle import _records

    return _records(backend)

"""`%pipeline load RUN STEP [NAMES]` and `%pipeline debug RUN STEP`: a run's values in the notebook.

`load` puts a step's outputs into the notebook's namespace under the names the cell gave them.
`debug` puts a step's inputs there, as the step received them (the values its upstream steps stored,
its parameters), and shows the cell's code, so the user can run the cell again here, see it fail the
same way, and fix it with the notebook's own tools.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..notebook.options import _Parser

if TYPE_CHECKING:
    from ..run_handle import Run
    from .runs import SessionState as PipelineMagics


def _run(m: PipelineMagics, ref: str) -> Run:
    from .. import api
    from ..backends.registry import shared_backend
    from .runs import run_ref

    return api.get_run(run_ref(m.shell, ref), backend=shared_backend(m.backend_name, **m.backend_options))


def _short(value: Any) -> str:
    kind = type(value)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    shape = getattr(value, "shape", None)
    return f"{name} {tuple(shape)}" if isinstance(shape, tuple) else name


def load_outputs(m: PipelineMagics, args: list[str]) -> None:
    p = _Parser(prog="%pipeline load", add_help=False)
    p.add_argument("run")
    p.add_argument("step")
    p.add_argument("names", nargs="*", default=[])
    opts = p.parse_args(args)
    run = _run(m, opts.run)
    outputs = run.outputs
    if opts.step not in outputs:
        run.info.step(opts.step)  # no such step: the error lists the steps
        raise UsageError(f"step {opts.step!r} of run {run.id} ({run.name}) has no stored outputs")
    values = outputs[opts.step]
    names = opts.names or list(values)
    missing = [n for n in names if n not in values]
    if missing:
        known = ", ".join(values) or "none"
        raise UsageError(
            f"step {opts.step!r} of run {run.id} has no output {missing[0]!r} (outputs: {known}). A step "
            "keeps the values that later steps read and its cell's last value (`result`); to keep "
            f"{missing[0]!r}, end the cell with it or list it in the step's --outputs"
        )
    assert m.shell is not None
    loaded = {values.binding_name(n): values[n] for n in names}  # the last value under its variable
    m.shell.user_ns.update(loaded)
    listing = ", ".join(f"{n} ({_short(v)})" for n, v in loaded.items())
    print(f"Loaded from step {opts.step!r} of run {run.name} ({run.id}): {listing}")


def debug_step(m: PipelineMagics, args: list[str]) -> None:
    p = _Parser(prog="%pipeline debug", add_help=False)
    p.add_argument("run")
    p.add_argument("step")
    opts = p.parse_args(args)
    run = _run(m, opts.run)
    from ..store.step_inputs import step_inputs

    values, unbound, source = step_inputs(run.backend, run.info, opts.step)
    assert m.shell is not None
    for name in unbound:
        m.shell.user_ns.pop(name, None)
    m.shell.user_ns.update(values)
    info = run.info.step(opts.step)
    state = info.state.value + (f": {info.error}" if info.error else "")
    listing = ", ".join(f"{n} ({_short(v)})" for n, v in values.items()) or "none"
    print(f"Step {opts.step!r} of run {run.name} ({run.id}) {state}")
    print(f"Its inputs, as it received them, are now in the notebook: {listing}")
    if unbound:
        print(f"Not defined (the upstream step left them unbound): {', '.join(unbound)}")
    if source.setup_code().strip():
        print("It ran after the setup cells (run them first if this kernel has not).")
    print("The cell's code (run it in a cell to reproduce the step; the next cell holds it):\n")
    print(source.cell.rstrip("\n"))
    m.shell.set_next_input(source.cell.rstrip("\n"), replace=False)


def subcommands(m: PipelineMagics) -> dict[str, Callable[[list[str]], Any]]:
    return {"load": lambda a: load_outputs(m, a), "debug": lambda a: debug_step(m, a)}

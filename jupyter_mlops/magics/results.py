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
    from ..models import ArtifactInfo
    from ..run_handle import Run
    from .runs import SessionState as PipelineMagics


def _run(m: PipelineMagics, ref: str) -> Run:
    from .. import api
    from ..backends.registry import shared_backend

    return api.get_run(ref, backend=shared_backend(m.backend_name, **m.backend_options))


def _short(value: Any) -> str:
    kind = type(value)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    shape = getattr(value, "shape", None)
    return f"{name} {tuple(shape)}" if isinstance(shape, tuple) else name


def load_outputs(m: PipelineMagics, args: list[str]) -> None:
    p = _Parser(prog="%pipeline load", add_help=False)
    p.add_argument("run")
    p.add_argument("step")
    p.add_argument("names", nargs="*")
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
            f"step {opts.step!r} of run {run.id} has no output {missing[0]!r} (outputs: {known})"
        )
    assert m.shell is not None
    loaded = {n: values[n] for n in names}
    m.shell.user_ns.update(loaded)
    listing = ", ".join(f"{n} ({_short(v)})" for n, v in loaded.items())
    print(f"Loaded from step {opts.step!r} of run {run.name} ({run.id}): {listing}")


def _input_artifacts(run: Run) -> dict[str, ArtifactInfo]:
    return {a.uri: a for a in run.backend.artifacts(run.id)}


def step_inputs(run: Run, step: str) -> tuple[dict[str, Any], list[str], Any]:
    """(variable -> value as the step received it, variables it did not receive, the step's source)."""
    from ..compiler.step_runtime import _mlops_like
    from ..compiler.step_values import _MLOPS_UNBOUND
    from ..ir.step_sources import run_step_sources
    from ..store.run_values import load_artifact_value

    info = run.info.step(step)
    source = run_step_sources(run.backend, run.id).get(step)
    if source is None:
        raise UsageError(
            f"step {step!r} of run {run.id} is not a notebook step whose code this machine has "
            "(a plain kfp component, or a run on another backend): nothing to debug here"
        )
    if not info.inputs and source.inputs and info.state.value in ("PENDING", "SKIPPED", "CANCELED"):
        raise UsageError(
            f"step {step!r} of run {run.id} never started ({info.state.value}): it received no inputs"
        )
    artifacts = _input_artifacts(run)
    groups: dict[str, dict[str, Any]] = {}
    values: dict[str, Any] = {}
    unbound: list[str] = []
    for arg, (var, kind) in sorted(source.inputs.items()):
        received = info.inputs.get(arg)
        if kind != "artifact":  # KFP carried the numbers of a list or dict as doubles: as in the step
            values[var] = _mlops_like(received, source.defaults[arg]) if arg in source.defaults else received
            continue
        artifact = artifacts.get(str(received))
        if artifact is None:
            raise UsageError(
                f"step {step!r} of run {run.id}: input {var!r} came from {received!r}, no longer stored"
            )
        try:
            value = load_artifact_value(artifact, var, groups)
        except KeyError:
            value = _MLOPS_UNBOUND
        if value is _MLOPS_UNBOUND:
            unbound.append(var)  # as in the step: the name is simply not defined
        else:
            values[var] = value
    return values, unbound, source


def debug_step(m: PipelineMagics, args: list[str]) -> None:
    p = _Parser(prog="%pipeline debug", add_help=False)
    p.add_argument("run")
    p.add_argument("step")
    opts = p.parse_args(args)
    run = _run(m, opts.run)
    values, unbound, source = step_inputs(run, opts.step)
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

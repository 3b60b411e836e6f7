"""The run view's "debug in the notebook" button for a failed step: `%pipeline debug RUN STEP` from a click.

The front end asks with {type: "debug", step}; the kernel puts the step's inputs, as the step received
them, into the notebook's namespace and answers with the cell's code, which the view shows to run.
"""

from __future__ import annotations

from typing import Any

from ..errors import MlopsError


def debug_in_kernel(backend: Any, run_id: str, step: str) -> dict[str, Any]:
    """Load `step`'s inputs into this kernel's namespace; what the view shows (or why not)."""
    from IPython.core.getipython import get_ipython

    from ..store.step_inputs import step_inputs

    answer: dict[str, Any] = {"type": "debug", "step": step, "magic": f"%pipeline debug {run_id} {step}"}
    shell = get_ipython()  # type: ignore[no-untyped-call,unused-ignore]
    if shell is None:
        return {**answer, "error": "no notebook kernel here to load the inputs into"}
    try:
        values, unbound, source = step_inputs(backend, backend.get(run_id), step)
    except (MlopsError, KeyError, OSError) as exc:
        return {**answer, "error": str(exc.args[0]) if isinstance(exc, KeyError) else str(exc)}
    for name in unbound:
        shell.user_ns.pop(name, None)  # as in the step: not defined
    shell.user_ns.update(values)
    return {**answer, "loaded": sorted(values), "unbound": unbound, "code": source.cell.rstrip("\n")}

"""One exception hierarchy. Each message says what is wrong, where, and what to do.

The magics and the CLI show `MlopsError` messages without a traceback through this package.
"""

from __future__ import annotations

from collections.abc import Sequence


class MlopsError(Exception):
    """Base of every error this package raises on purpose."""


class UsageError(MlopsError):
    """Bad options or arguments to a magic, the CLI or the API."""


class Unsupported(UsageError):
    """The backend cannot do this (what its `capabilities` declare False): the message says where to
    look instead (a KFP run's page in the KFP UI). The server answers 400."""


class CellError(MlopsError):
    """A problem located in a notebook cell (syntax, an unknown name, an unsupported construct)."""

    def __init__(self, message: str, *, cell: str | None = None, line: int | None = None) -> None:
        where = ""
        if cell is not None:  # a step's name, `%%pipeline params`; or the CLI's `code cell 6 (...)`
            where = cell if cell.startswith("code cell ") else f"cell {cell}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(where + message)
        self.detail = message
        self.cell = cell
        self.line = line


class CellErrors(CellError):
    """Several problems found at once: compile reports every problem in the notebook, each with its
    cell and line. One problem alone is raised as itself (`raise_all`), so its message is unchanged."""

    def __init__(self, errors: Sequence[CellError]) -> None:
        self.errors = list(errors)
        text = f"{len(self.errors)} problems in the notebook:\n" + "\n".join(f"  - {e}" for e in self.errors)
        MlopsError.__init__(self, text)
        self.detail = text
        self.cell = None
        self.line = None


def raise_all(errors: Sequence[CellError]) -> None:
    """Raise nothing, the one error, or all of them as `CellErrors`."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise CellErrors(errors)


class PipelineError(MlopsError):
    """The pipeline as a whole is wrong (a cycle, no steps, an unknown step)."""


class SerializationError(MlopsError):
    """A value cannot cross from one step to another."""


class BackendError(MlopsError):
    """A backend failed or could not be reached."""


class BackendUnavailable(BackendError):
    """The backend could not be reached or failed on its side (no answer, a 5xx): asking again later
    may work, unlike a refusal (401/403) that stays until the user changes something."""


class NotFound(BackendError, KeyError):
    """No such run, step or artifact: the server answers 404 for each (one mapping, in server/base.py)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class RunNotFound(NotFound):
    """No run with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "run not found"


class StepNotFound(NotFound):
    """The run has no step of that name."""


class ArtifactNotFound(NotFound):
    """The step has no artifact of that name, or the artifact has no such file."""


class Forbidden(MlopsError):
    """A request for something the caller may not have: a path that leaves its root (the server's 403)."""


class StoreError(BackendError):
    """The run store or the artifact root cannot be used (not writable, corrupt, too new a schema)."""


class StoreUnavailable(StoreError):
    """A read or write of the run store failed (disk full, I/O error, a lock held too long); `busy` when
    another process held the lock past the busy timeout. Trying again may succeed."""

    def __init__(self, message: str, *, busy: bool = False) -> None:
        super().__init__(message)
        self.busy = busy


class Interrupted(KeyboardInterrupt):
    """An interrupt (Ctrl+C, the kernel's stop button) while a magic waited: still a KeyboardInterrupt
    (the cell ends interrupted, cells queued after it do not run), shown by IPython as one line that
    says what stopped and what goes on, instead of a traceback through this package."""

    def _render_traceback_(self) -> list[str]:
        return [f"KeyboardInterrupt: {self.args[0]}"]


class WaitInterrupted(Interrupted):
    """Interrupted while waiting for a run or following its log: that stopped, the run goes on.
    `what`: what stopped ("Stopped waiting")."""

    def __init__(self, run_id: str, what: str = "Stopped waiting") -> None:
        self.run_id = run_id
        super().__init__(
            f"{what}: run {run_id} goes on. `%pipeline status {run_id}` shows it, "
            f"`%pipeline cancel {run_id}` stops it, `mlops.get_run('{run_id}')` is its Run."
        )


class SubmitInterrupted(WaitInterrupted):
    """Interrupted while a run was being submitted: the submit was let finish first (a run is submitted
    whole or not at all, held_interrupt.py), so the run goes on; `run_id` is its id."""

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id, "Interrupted while submitting; the submit was finished first")


class CompileInterrupted(Interrupted):
    """Interrupted while the pipeline was compiled: nothing was submitted."""

    def __init__(self, what: str) -> None:
        super().__init__(f"Interrupted while compiling {what}: nothing was submitted.")

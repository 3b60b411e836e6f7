"""Step logs as files under a run's directory, read from a byte offset (for `--follow` and live views)."""

from __future__ import annotations

from pathlib import Path

from ..errors import StoreError
from ..executor.cache import cached_log_line
from ..executor.step_folders import folder_name
from ..models import LogChunk, StepState

MAX_CHUNK = 1 << 20  # a 50 MB log is read in pieces, never whole into one response


def step_log_path(run_dir: Path, step: str) -> Path:
    """The file holding `step`'s stdout and stderr: one per step, never outside `run_dir/logs`
    (executor/step_folders.py)."""
    logs = run_dir / "logs"
    path = logs / f"{folder_name(step)}.log"
    if path.parent != logs:  # cannot happen after folder_name; kept as the confinement guarantee
        raise StoreError(f"step name {step!r} does not map to a log file inside {logs}")
    return path


def log_gone(path: Path, state: StepState) -> bool:
    """Was `path` written and then removed? Every run has its logs folder from the start, and a step
    that succeeded (or was served from the cache) always wrote a log; a step that never ran did not."""
    if path.exists():
        return False
    if not path.parent.is_dir():
        return True
    return state in (StepState.SUCCEEDED, StepState.CACHED)


def made_from_record(path: Path, state: StepState) -> bool:
    """Is the step's log its cached line, made from its record? A run resolved whole from the cache in
    the submitting process (backends/cached_runs.py) writes no log file for its CACHED steps (nor a logs
    folder); a run whose folder was removed has lost its logs."""
    return state is StepState.CACHED and not path.exists() and path.parent.parent.is_dir()


def cached_log_chunk(key: str | None, offset: int) -> LogChunk:
    """The log of a CACHED step that has no log file, from byte `offset`: the line a runner writes."""
    if offset < 0:
        raise ValueError(f"log offset must be >= 0, got {offset}")
    data = cached_log_line(key).encode()[offset:]  # ASCII: no character is cut
    end = offset + len(data)
    return LogChunk(text=data.decode(), offset=offset, next_offset=end, complete=True)


def _complete_utf8_prefix(data: bytes) -> int:
    """Length of the longest prefix of `data` that does not end inside a multi-byte UTF-8 character,
    so a reader following a log being written never splits a character across two chunks."""
    end = len(data)
    for back in range(1, min(4, end) + 1):
        byte = data[end - back]
        if byte & 0b1100_0000 == 0b1000_0000:  # continuation byte: keep looking for the lead byte
            continue
        if byte & 0b1000_0000 == 0:  # ASCII
            return end
        width = 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4 if byte >> 3 == 0b11110 else 1
        return end if back >= width else end - back
    return end


def read_log(path: Path, offset: int = 0, *, final: bool = False, limit: int = MAX_CHUNK) -> tuple[str, int]:
    """Text from byte `offset` (at most `limit` bytes) and the offset to ask for next.

    `final`: the writer has finished, so a trailing partial character is shown (replaced) rather than
    held back for a next read that would never complete it.
    """
    if offset < 0:
        raise ValueError(f"log offset must be >= 0, got {offset}")
    try:
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read(limit)
            at_end = f.read(1) == b""
    except FileNotFoundError:
        return "", offset
    keep = len(data) if final and at_end else _complete_utf8_prefix(data)
    return data[:keep].decode("utf-8", errors="replace"), offset + keep

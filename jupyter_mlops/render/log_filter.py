"""A step's log without kfp's own bookkeeping, for the views.

kfp's executor logs, before a step's code runs, where it found the component and the whole
`executor_input` as indented JSON (dozens of lines per step), and after it, where it wrote the output
file. A cluster's log shows the same; in a run view it buries the step's own output. `ExecutorLines`
drops those INFO lines (and the JSON after "Got executor_input:") from a log read in chunks; warnings
and errors from the executor stay. `%pipeline logs` and `jupyter-mlops logs` filter alike unless given
`--executor-lines`, and `Run.logs` unless given `executor_lines=True`; those also leave out the frames
of a step's traceback above the user's cell (`RunnerFrames`).

The sidebar's run view asks the server for the same text (`filter_chunk`, the log route's
`executor_lines=hide`, read in chunks with no memory between them): the filter is written once, here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What shows every line, named in the line that says how many frames were left out: the magic's and the
# CLI's flag (the default), `Run.logs`'s argument, the sidebar's checkbox (the log route), and for the
# notebook run view (which has no switch) the magic.
FLAG = "--executor-lines"
RUN_LOGS = "Run.logs(step, executor_lines=True)"
SIDEBAR = "the 'kfp executor lines' box"
NOTEBOOK_VIEW = "%pipeline logs RUN STEP --executor-lines"

_INFO = re.compile(r"\[KFP Executor [^\]]* INFO\]: (.*)")
_PREFIX = "[KFP Executor "
_JSON_START = "Got executor_input:"
_LONGEST = 65536  # characters: longer than any line kfp's executor writes


class ExecutorLines:
    """Feed a log's text in chunks to `push`; it returns the text to show, with kfp's INFO lines out.

    A line that may turn out to be one of kfp's is held back until its end arrives; any other partial
    line is passed on at once, so output without a newline (a progress bar) still shows live.
    """

    def __init__(self) -> None:
        self._pending = ""  # the start of an undecided line
        self._passing = False  # the current line was let through: the rest of it goes too
        self._in_json = False  # inside the executor_input JSON

    def push(self, text: str, *, final: bool = False) -> str:
        out: list[str] = []
        start = 0
        while start < len(text):
            end = text.find("\n", start)
            terminated = end >= 0
            piece = text[start:end] if terminated else text[start:]
            start = end + 1 if terminated else len(text)
            if self._passing:
                out.append(piece + "\n" if terminated else piece)
                self._passing = not terminated
                continue
            line = self._pending + piece
            if terminated:
                self._pending = ""
                if self._keep(line):
                    out.append(line + "\n")
            elif self._in_json or _PREFIX.startswith(line) or line.startswith(_PREFIX):
                self._pending = line
            else:
                out.append(line)
                self._pending, self._passing = "", True
        if final and self._pending:
            if self._keep(self._pending):
                out.append(self._pending)
            self._pending = ""
        return "".join(out)

    def _keep(self, line: str) -> bool:
        if self._in_json:
            if line == "}":
                self._in_json = False
            return False
        match = _INFO.fullmatch(line)
        if match is None:
            return True
        if match.group(1) == _JSON_START:
            self._in_json = True
        return False


STATES = ("", "line", "json", "traceback")
# "": at a line's start; "line": inside a line let through; "json": inside the input JSON;
# "traceback": after a traceback's first line, its frames not yet decided (`RunnerFrames`)
_HELD_MOST = 256 * 1024  # bytes of a traceback held back undecided: less than a read (store/logs.py)


@dataclass(frozen=True)
class FilteredChunk:
    text: str  # what to show of the chunk
    held: str  # the chunk's undecided end: not shown, to be read again with the next chunk
    state: str  # to pass with the next chunk (one of STATES)


def filter_chunk(text: str, state: str = "", *, final: bool = False, shows: str = SIDEBAR) -> FilteredChunk:
    """One chunk of a log read from an offset, filtered as `ShownLog` filters (kfp's executor lines
    out, and the step runner's frames above the cell in a traceback) with no memory between calls:
    what a previous call returned as `state` says where the chunk starts, and what cannot be decided
    yet is `held` back, for the caller to read again from its start (the log route answers a
    `next_offset` before it): a line that may be kfp's, or a traceback's frames before the cell's
    (its first line shown, then state "traceback"). Chunked any way, the shown texts add up to
    `without_runner_frames(without_executor_lines(whole))` (tests/views/test_log_filter.py), but
    for a traceback whose undecided part grows past `_HELD_MOST` bytes: shown whole, as the runner's
    own errors are, rather than held back past what one read holds."""
    if state not in STATES:
        raise ValueError(f"unknown log filter state {state!r} (expected one of {STATES})")
    lines, frames = _filters(state, shows)
    out = [frames.push(lines.push(text, final=final), final=final)]  # both filters: any chunking alike
    if final:
        return FilteredChunk("".join(out), "", "")
    held = lines._pending
    # Decided now: bytes that were not UTF-8 (the line's length in bytes is unknown), or a line longer
    # than any of kfp's (one longer than a read would be held back forever).
    if "\ufffd" in held or len(held) > _LONGEST:
        lines._pending = ""
        if lines._keep(held):
            lines._passing = True  # the rest of the line goes too
            out.append(frames.push(held))
        held = ""
    if frames._in_traceback:
        rest = text[_undecided_from(text, state) :]
        if "\ufffd" not in rest and len(rest.encode("utf-8")) <= _HELD_MOST:
            return FilteredChunk("".join(out), rest, "traceback")
        out.append(frames.give_up())
    if frames._pending:  # a line's start that may be a traceback's first line: read again whole
        return FilteredChunk("".join(out), frames._pending, "")
    after = "json" if lines._in_json else "line" if lines._passing else ""
    return FilteredChunk("".join(out), held, after)


def _filters(state: str, shows: str) -> tuple[ExecutorLines, RunnerFrames]:
    """Both filters as they stand where a chunk read with `state` starts."""
    lines, frames = ExecutorLines(), RunnerFrames(shows)
    lines._passing, lines._in_json = state == "line", state == "json"
    frames._mid_line, frames._in_traceback = state == "line", state == "traceback"
    return lines, frames


def _undecided_from(text: str, state: str) -> int:
    """Where in `text` the traceback undecided at its end has its frames start: right after its
    first line (there kfp's filter stands at a line's start, nothing held). Found again line by line
    only for such a chunk: a traceback starts and ends with a whole line."""
    lines, frames = _filters(state, FLAG)  # (the wording of what it shows is not read here)
    undecided = 0 if state == "traceback" else -1
    start = 0
    while (end := text.find("\n", start)) >= 0:
        frames.push(lines.push(text[start : end + 1]))
        start = end + 1
        if not frames._in_traceback:
            undecided = -1
        elif undecided < 0:
            undecided = start
    assert undecided >= 0, "the chunk ended inside a traceback it never entered"
    return undecided


def without_executor_lines(text: str) -> str:
    """The whole of a log, filtered at once."""
    return ExecutorLines().push(text, final=True)


_TRACEBACK = "Traceback (most recent call last):"
_USER_FRAME = '  File "<'  # code run from text, not from a file: a cell (`<cell train>`, `<pipeline setup>`)
_NOT_USER = ('  File "<frozen ', '  File "<string>"')


class RunnerFrames:
    """Feed a log's text in chunks to `push`; it returns it with the frames that a step's traceback
    has above the user's cell left out: those of the step worker, kfp's executor, the compiled
    component module and the step runtime, which say nothing about the user's error. One line says
    how many went. A traceback with no frame of a cell (an error of the runner itself) stays whole.

    Outside a traceback text passes at once, partial lines too (but for one that may be a traceback's
    first line); inside one it is held until the cell's frame, or the traceback's end, decides."""

    def __init__(self, shows: str = FLAG) -> None:
        self._shows = shows  # what the reader uses to see every line (named in the left-out line)
        self._in_traceback = False
        self._held: list[str] = []  # the traceback's frame lines so far, before a cell's
        self._partial = ""  # an unfinished line inside a traceback
        self._pending = ""  # outside one: an unfinished line that may yet be a traceback's first
        self._mid_line = False  # outside one: the last text passed ended inside a line

    def push(self, text: str, *, final: bool = False) -> str:
        out: list[str] = []
        for piece in text.splitlines(keepends=True):
            if self._in_traceback:
                self._partial += piece
                if self._partial.endswith("\n"):
                    line, self._partial = self._partial, ""
                    out.append(self._line(line))
                continue
            line, self._pending = self._pending + piece, ""
            if line.endswith("\n"):
                if not self._mid_line and line.rstrip("\r\n") == _TRACEBACK:
                    self._in_traceback, self._held = True, []
                out.append(line)
                self._mid_line = False
            elif not self._mid_line and _TRACEBACK.startswith(line):
                self._pending = line  # may be the start of a traceback: decided by the rest of the line
            else:
                out.append(line)
                self._mid_line = True
        if final:
            if self._in_traceback:
                out.extend(self._held)
                out.append(self._partial)
                self._in_traceback, self._held, self._partial = False, [], ""
            out.append(self._pending)
            self._pending = ""
        return "".join(out)

    def give_up(self) -> str:
        """Inside a traceback: what it holds, shown after all, and the rest of it is not trimmed."""
        shown = "".join(self._held) + self._partial
        self._mid_line = bool(self._partial)
        self._in_traceback, self._held, self._partial = False, [], ""
        return shown

    def _line(self, line: str) -> str:
        """A complete line inside a traceback: what to show of it (and of the lines held before it)."""
        if line.startswith(_USER_FRAME) and not line.startswith(_NOT_USER):
            left_out = sum(1 for held in self._held if held.startswith('  File "'))
            self._in_traceback, self._held = False, []
            if not left_out:
                return line
            return f"  [{left_out} frames of the step runner left out; {self._shows} shows them]\n{line}"
        if line.startswith(" ") or not line.strip():  # a frame, its source line, its ^^^ marks
            self._held.append(line)
            return ""
        shown = "".join(self._held) + line  # the traceback ended with no cell in it: all of it
        self._in_traceback, self._held = False, []
        return shown


class ShownLog:
    """What the log commands and the run view show of a log read in chunks: without kfp's executor
    lines (`ExecutorLines`), and without the step runner's frames above the cell in a traceback
    (`RunnerFrames`)."""

    def __init__(self, shows: str = FLAG) -> None:
        self._lines, self._frames = ExecutorLines(), RunnerFrames(shows)

    def push(self, text: str, *, final: bool = False) -> str:
        return self._frames.push(self._lines.push(text, final=final), final=final)


def without_runner_frames(text: str, shows: str = FLAG) -> str:
    """The whole of a log without the step runner's frames above a cell's in its tracebacks."""
    return RunnerFrames(shows).push(text, final=True)

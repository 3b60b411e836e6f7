"""Logs as a terminal shows them: a progress bar that redraws itself with carriage returns is one line in
the run views, in Python (the notebook view's log) and in the sidebar's JavaScript (the same rules, run
in Node on the same logs), also when the log arrives in chunks split anywhere."""

from __future__ import annotations

import json

import pytest

from jupyter_mlops.render.terminal_text import as_a_terminal_shows
from jupyter_mlops.widgets.esm import STATIC

from .in_node import needs_node, printed_by

BAR = "".join(f"\r{i:3d}%|{'#' * (i // 10):<10}|" for i in range(0, 101, 5))
LOGS = [
    "plain\nlines\n",
    "epoch 1\n" + BAR + "\nloss 0.3\n",
    "windows\r\nnewlines\r\n",
    "half a bar\r 40%",
    "ends on a carriage return\r",
    "a\r\r\rb\n\r\n",
    "",
]


def test_a_progress_bar_is_the_line_it_ends_as() -> None:
    assert as_a_terminal_shows(LOGS[1]) == "epoch 1\n100%|##########|\nloss 0.3\n"
    assert as_a_terminal_shows(LOGS[2]) == "windows\nnewlines\n"
    assert as_a_terminal_shows(LOGS[3]) == " 40%"
    assert as_a_terminal_shows(LOGS[5]) == "b\n\n"


@pytest.mark.parametrize("text", LOGS)
def test_chunks_split_anywhere_give_what_the_whole_log_gives(text: str) -> None:
    whole = as_a_terminal_shows(text)
    for cut in range(len(text) + 1):
        assert as_a_terminal_shows(as_a_terminal_shows(text[:cut]) + text[cut:]) == whole, cut


@needs_node
def test_the_sidebars_javascript_shows_what_python_shows() -> None:
    whole, chunked = printed_by(
        STATIC / "terminal.js",
        "asATerminalShows",
        f"const logs = {json.dumps(LOGS)};\n"
        "const chunked = logs.map(t => { let s = ''; for (const c of t.match(/[\\s\\S]{1,3}/g) || []) "
        "s = asATerminalShows(s + c); return s; });\n"
        "console.log(JSON.stringify([logs.map(asATerminalShows), chunked]));",
    )
    assert whole == chunked == [as_a_terminal_shows(t) for t in LOGS]

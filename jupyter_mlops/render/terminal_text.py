"""A log as a terminal shows it: a carriage return (what a progress bar such as tqdm's or Keras's writes
to redraw itself) goes back to the start of the line, so only what was written after the last one stays;
"\\r\\n" is a newline. The end of a line whose newline has not come yet keeps a trailing "\\r" (the "\\n"
may be in the next chunk), so the text can be kept in this form as chunks arrive.

The run views show logs this way (a bar redrawn a thousand times is one line, not a thousand, and does
not push the step's own output out of the view's tail). `widgets/static/terminal.js` is the front end's
twin (tests/views/test_terminal_text.py runs both on the same logs).
"""

from __future__ import annotations


def as_a_terminal_shows(text: str) -> str:
    if "\r" not in text:
        return text
    lines = text.split("\n")
    shown = []
    for i, line in enumerate(lines):
        open_end = i == len(lines) - 1 and line.endswith("\r")
        body = line.rstrip("\r")
        kept = body[body.rfind("\r") + 1 :]
        shown.append(kept + "\r" if open_end else kept)
    return "\n".join(shown)

"""The views' front-end modules: each is `static/dom.js` (shared helpers) followed by its own file."""

from __future__ import annotations

import functools
import pathlib

STATIC = pathlib.Path(__file__).parent / "static"


@functools.cache
def esm(name: str) -> str:
    """The ES module anywidget loads for the view whose own code is `static/<name>`."""
    return (
        (STATIC / "dom.js").read_text(encoding="utf-8") + "\n" + (STATIC / name).read_text(encoding="utf-8")
    )

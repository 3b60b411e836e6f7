"""The views' front-end modules: each is `static/format.js` (the duration formatter, which the sidebar
bundles too), `static/dom.js` (shared helpers), then the helper files it asks for, then its own file."""

from __future__ import annotations

import functools
import pathlib

STATIC = pathlib.Path(__file__).parent / "static"


@functools.cache
def esm(name: str, *helpers: str) -> str:
    """The ES module anywidget loads for the view whose own code is `static/<name>`, after
    `static/format.js`, `static/dom.js` and `static/<helper>` for each helper (plain functions it calls)."""
    files = ["format.js", "dom.js", *helpers, name]
    return "\n".join((STATIC / f).read_text(encoding="utf-8") for f in files)

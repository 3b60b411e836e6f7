"""Durations are written by one front-end function (widgets/static/format.js, which the widgets' modules
and the JupyterLab sidebar both use), with the same rules as the Python one that draws the static SVG
and the text views: checked here by running the JavaScript in Node on the same values."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jupyter_mlops.render.style import format_duration
from jupyter_mlops.widgets.esm import STATIC

from .in_node import needs_node, printed_by

ROOT = Path(__file__).resolve().parents[2]
VALUES = [
    0.0,
    0.04,
    0.4,
    1.25,
    9.94,
    9.96,
    10.0,
    12.4,
    59.4,
    59.6,
    60.0,
    185.0,
    3599.4,
    3600.0,
    3725.0,
    86400.0,
]


@needs_node
def test_the_front_ends_formatter_writes_what_the_python_one_writes() -> None:
    written = printed_by(
        STATIC / "format.js",
        "formatDuration",
        f"console.log(JSON.stringify({json.dumps(VALUES)}.map(formatDuration)"
        ".concat([formatDuration(null), formatDuration(undefined)])));",
    )
    assert written == [format_duration(v) for v in VALUES] + ["", ""]


def test_no_other_front_end_file_formats_durations() -> None:
    sources = [
        *(STATIC.glob("*.js")),
        *(ROOT / "labextension" / "src").glob("*.ts"),
    ]
    defining = [p.name for p in sources if re.search(r"function formatDuration\b", p.read_text())]
    assert defining == ["format.js"]
    # The sidebar takes the widgets' file (bundled), not a copy.
    assert "jupyter_mlops/widgets/static/format.js" in (ROOT / "labextension/src/format.ts").read_text()

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


METRICS = [0.46585367499563834, 0.912, 1.0, 3, 123456789.125, 1e-7, 2.5e-12, -0.000123456789]


@needs_node
def test_metrics_are_written_with_six_significant_digits_as_the_terminal_writes_them() -> None:
    """The views' metric tables and headers, and the sidebar's, write a metric as the CLI's report does
    (`{value:.6g}`): 0.465854, not 0.46585367499563834; a whole number (a count) whole."""
    written = printed_by(
        STATIC / "format.js",
        "formatMetric",
        f"console.log(JSON.stringify({json.dumps([*METRICS, 1234567.0])}.map(formatMetric)));",
    )
    assert [float(w) for w in written[:-1]] == [float(f"{v:.6g}") for v in METRICS]
    assert written[0] == "0.465854" and written[3] == "3" and written[-1] == "1234567"

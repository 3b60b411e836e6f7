"""Durations are written by one front-end function (widgets/static/format.js, which the widgets' modules
and the JupyterLab sidebar both use), with the same rules as the Python one that draws the static SVG
and the text views: checked here by running the JavaScript in Node on the same values."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jupyter_mlops.render.style import format_duration
from jupyter_mlops.widgets.esm import STATIC

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


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (the labextension's build has it)")
def test_the_front_ends_formatter_writes_what_the_python_one_writes() -> None:
    module = (STATIC / "format.js").as_uri()
    script = (
        f"import {{ formatDuration }} from {json.dumps(module)};\n"
        f"console.log(JSON.stringify({json.dumps(VALUES)}.map(formatDuration)"
        ".concat([formatDuration(null), formatDuration(undefined)])));\n"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True
    )
    written = json.loads(done.stdout)
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

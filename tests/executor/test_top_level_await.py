"""A cell may `await` at its top level: IPython runs it (autoawait), so a notebook that fetches with
asyncio/aiohttp does. As a step it runs the same way, in an event loop of its own, instead of failing
with "SyntaxError: 'await' outside function" only once the pipeline runs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from cli_runs import cli

CELLS = [
    "%load_ext jupyter_mlops",
    "%%pipeline setup\nimport asyncio\nimport json",
    "%%component fetch\nasync def get(i):\n    await asyncio.sleep(0)\n    return i * 2\n"
    "values = await asyncio.gather(*[get(i) for i in range(4)])\nloops = [id(asyncio.get_running_loop())]\n"
    "await asyncio.sleep(0)",  # the last line too: an awaited expression, in the same loop
    "%%component report\nasync def total():\n    return sum(values)\n"
    "with open('report.json', 'w') as f:\n    json.dump({'values': values, 'total': await total()}, f)",
]


@pytest.mark.parametrize("setup", ["%%pipeline setup", "%%pipeline setup --inline-runtime"])
def test_top_level_await_runs_in_a_step_as_it_does_in_the_kernel(tmp_path: Path, setup: str) -> None:
    notebook = nbformat.v4.new_notebook()
    cells = [c.replace("%%pipeline setup", setup) for c in CELLS]
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(notebook, tmp_path / "fetch.ipynb")
    out = cli(tmp_path / "home", "run", "fetch.ipynb", "--wait", cwd=tmp_path)
    assert "SUCCEEDED" in out, out
    assert json.loads((tmp_path / "report.json").read_text()) == {"values": [0, 2, 4, 6], "total": 12}

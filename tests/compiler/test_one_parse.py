"""Planning parses each cell once (issue 10): converting a cell to Python, its two analyses
(across_cells.py) and the later passes (file order, relative paths, imports) share one tree; before,
a step's text was parsed four times when planning and three more times by the later passes."""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any

import pytest

from jupyter_mlops.analysis.cell_python import parse_python
from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.notebook.reader import feed_cell
from jupyter_mlops.notebook.workspace import Workspace

CELLS = [
    "%%pipeline setup\nimport json\nOUT = 'out/'\n\ndef save(x, path):\n    json.dump(x, open(path, 'w'))\n",
    "%%pipeline params\nn = 3\n",
    "%%component make\nimport pandas as pd\nrows = list(range(n))\nsave(rows, OUT + 'rows.json')\n",
    "%%component read\nframe = pd.read_csv('data/table.csv')\ntotal = sum(rows) + len(frame)\n",
    "%%component report\nprint(total)\n",
]


def test_each_cell_is_parsed_once_when_planning(monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = Workspace("once")
    for index, source in enumerate(CELLS, start=1):
        feed_cell(workspace, source, f"code cell {index}")
    parse_python.cache_clear()  # (cells parsed by earlier tests in this process would not count)
    parsed: Counter[str] = Counter()
    real = ast.parse

    def counting(source: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("mode", args[1] if len(args) > 1 else "exec") == "exec":
            parsed[str(source)] += 1
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    plan = plan_pipeline(workspace.active)
    assert [n.message[:30] for n in plan.notes if n.cell == "read"]  # the relative path is still noted
    assert plan.step("read").after or plan.step("make").options.cache is False  # file order still found
    cells = {text: count for text, count in parsed.items() if "rows" in text or "OUT" in text}
    assert cells and all(count == 1 for count in cells.values()), parsed


def test_each_of_many_cells_is_converted_once_when_planning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second analysis pass converted each cell to Python, compiled it and looked for star imports
    again; past 512 cells (parse_python's cache) it parsed each again too. It takes the first pass's
    now, for any number of cells."""
    from jupyter_mlops.analysis import cell as cell_module

    n = 600
    workspace = Workspace("many")
    feed_cell(workspace, "%%pipeline params\nx = 0\n", "params")
    feed_cell(workspace, "%%component s0\nv0 = x + 1\n", "cell 0")
    for i in range(1, n):
        feed_cell(workspace, f"%%component s{i}\nv{i} = v{i - 1} + 1\n", f"cell {i}")
    converted: Counter[str] = Counter()
    real = cell_module.to_python

    def counting(source: str, **kwargs: Any) -> Any:
        converted[source] += 1
        return real(source, **kwargs)

    monkeypatch.setattr(cell_module, "to_python", counting)
    plan = plan_pipeline(workspace.active)
    assert len(plan.steps) == n and plan.step(f"s{n - 1}").inputs == {f"v{n - 2}": (f"s{n - 2}", "artifact")}
    assert max(converted.values()) == 1, converted.most_common(3)

"""Running a real-world notebook the three ways, and reading its key values back.

Every notebook ends with a cell that prints its key values as one JSON line (`print(json.dumps(report))`).
That line is read from the cell's output in a kernel, and from the `report` step's log in a pipeline run.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from .conversions import NOTEBOOKS, Conversion, read_plain

REPO = Path(__file__).resolve().parents[2]
KERNEL_TIMEOUT_S = 600
_RUN_ID = re.compile(r"^Run (\w+) \(", re.MULTILINE)
MARK = "REALWORLD-RUN "


def notebook_folder(tmp: Path) -> Path:
    """A fresh copy of the notebooks folder (with data/): what one user has on disk."""
    folder = tmp / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    return folder


def report_in(text: str) -> dict[str, Any] | None:
    """The last line of `text` that is a JSON object: the notebook's key values."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


def stream_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def shown(cell: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """What a cell shows a user, comparable across kernels: printed text, its value, displayed objects as
    text (stderr is left out: warnings there name the kernel's temporary files)."""
    found = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stdout":
            found.append(("stdout", out.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            found.append((kind, out.get("data", {}).get("text/plain", "")))
    return found


def shows_the_same(plain: list[tuple[str, str]], converted: list[tuple[str, str]]) -> bool:
    """The converted cell shows the plain cell's value and displays, and prints what it printed (a line
    the magic adds, such as a note, is allowed)."""

    def of(kind: str, outputs: list[tuple[str, str]]) -> list[str]:
        return [text for k, text in outputs if k == kind]

    printed = "".join(of("stdout", plain))
    return all(
        of(kind, plain) == of(kind, converted) for kind in ("execute_result", "display_data")
    ) and printed in "".join(of("stdout", converted))


def error_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Every error a cell showed, as 'cell ID: Name: message' (even where the cell did not fail)."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"cell {cell.get('id')}: {out.get('ename')}: {out.get('evalue')}")
    return found


def execute(nb: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """Run every cell in a real kernel (the default python3 kernelspec) whose working directory is the
    notebook's folder, as Jupyter starts it; a failing cell raises CellExecutionError."""
    from nbclient import NotebookClient

    NotebookClient(
        nb, timeout=KERNEL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return nb


def cell_by_id(nb: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.get("id") == cell_id:
            return cell
    raise KeyError(cell_id)


def report_cell_id(conversion: Conversion) -> str:
    return next(c for c, magic in conversion.magics.items() if magic.split()[-1] == conversion.report_step)


@dataclass
class Reference:
    values: dict[str, Any]  # the key values the notebook's last cell printed
    shown: dict[str, list[tuple[str, str]]]  # cell id -> what the cell showed


def run_plain(conversion: Conversion, folder: Path) -> Reference:
    """The plain notebook, top to bottom in a kernel in its folder: the reference."""
    nb = execute(read_plain(conversion), folder)
    text = stream_text(cell_by_id(nb, report_cell_id(conversion)))
    values = report_in(text)
    assert values, f"{conversion.notebook}: its last cell printed no key values: {text!r}"
    for path in conversion.writes:
        assert (folder / path).is_file(), f"{conversion.notebook} did not write {path}"
    return Reference(values, {cell.id: shown(cell) for cell in nb.cells if "id" in cell})


def cli(*args: str, cwd: Path, timeout: float = KERNEL_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """`jupyter-mlops ARGS` as a user types it (this interpreter's script, else `python -m`)."""
    script = Path(sys.executable).with_name("jupyter-mlops")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "jupyter_mlops.cli"]
    return subprocess.run(
        [*command, *args], cwd=cwd, env=os.environ.copy(), capture_output=True, text=True, timeout=timeout
    )


def run_id_in(output: str) -> str | None:
    match = _RUN_ID.search(output)
    return match.group(1) if match else None


def kernel_run_cells(conversion: Conversion) -> list[nbformat.NotebookNode]:
    """What the test appends to the converted notebook: take away the files the notebook's cells wrote in
    the kernel (so that the pipeline must write them again), run the pipeline, print what the run did."""
    new = nbformat.v4.new_code_cell
    clear = new(
        "import os as _rw_os\n"
        f"for _rw_path in {list(conversion.writes)!r}:\n"
        "    if _rw_os.path.exists(_rw_path):\n"
        "        _rw_os.remove(_rw_path)",
        id="rw-clear",
    )
    run = new("run = %pipeline run --wait", id="rw-run")
    show = new(
        "import json as _rw_json\n"
        "import jupyter_mlops as _rw_mlops\n"
        "print(" + repr(MARK) + " + _rw_json.dumps({\n"
        "    'state': run.state.value,\n"
        "    'error': run.error,\n"
        "    'tasks': {name: state.value for name, state in run.tasks.items()},\n"
        "    'package': _rw_mlops.__file__,\n"
        f"    'log': run.logs({conversion.report_step!r}),\n"
        "}))",
        id="rw-show",
    )
    return [clear, run, show]


def kernel_run_facts(nb: nbformat.NotebookNode) -> dict[str, Any]:
    text = stream_text(cell_by_id(nb, "rw-show"))
    for line in text.splitlines():
        if line.startswith(MARK):
            facts: dict[str, Any] = json.loads(line[len(MARK) :])
            return facts
    raise AssertionError(f"the run cell printed nothing to read: {text!r}")


def differences(expected: Any, got: Any, where: str = "") -> list[str]:
    """Where `got` differs from the reference (floats within 1e-9 relative: the same code on the same
    seeded data gives the same numbers)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        out = [f"{where}.{k}: missing" for k in expected if k not in got]
        out += [f"{where}.{k}: unexpected" for k in got if k not in expected]
        for k in expected:
            if k in got:
                out += differences(expected[k], got[k], f"{where}.{k}")
        return out
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        pairs = enumerate(zip(expected, got, strict=True))
        return [d for i, (e, g) in pairs for d in differences(e, g, f"{where}[{i}]")]
    differs = [f"{where}: {got!r}, not {expected!r}"]
    if isinstance(expected, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return [] if math.isclose(expected, got, rel_tol=1e-9, abs_tol=1e-12) else differs
    return [] if expected == got and type(expected) is type(got) else differs

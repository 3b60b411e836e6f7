"""Compiled steps import the step runtime (installed by their prelude), or, with
`%%pipeline setup --inline-runtime`, each carries only the runtime it uses (issue 10); every variant
still runs, on this backend and, unchanged, on kfp.local (the reference executor).

One notebook whose steps switch the parts on and off in different combinations: parameter outputs,
list parameters typed by their default, values stored together (a group) and read back as one, the
cell's result, metrics, a name bound on some paths only; no pandas anywhere, so no step carries the
parquet code. The last step checks what arrived and writes a report both executors must agree on.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops._version import __version__
from jupyter_mlops.compiler import compile_documents, compile_yaml, plan_pipeline
from jupyter_mlops.compiler.runtime_source import step_switches
from jupyter_mlops.models import RunState

from .conftest import Runner
from .notebook_cells import notebook_pipeline

CELLS = [
    "%%pipeline setup\nimport numpy as np\n\n\ndef halve(v):\n    return v / 2\n",
    "%%pipeline params\nsizes = [2, 3]\nreport = ''\n",
    "%%component make\ngrid = np.arange(6.0).reshape(sizes)\nflag = False\n"
    "if flag:\n    late = 1\nlen(sizes)",
    "%%component tally\nn_rows = 2",
    "%%component link\nrows = [grid[0], grid[1]]\nfirst = rows[0]",
    "%%component read\nassert rows[0] is first, 'stored together, loaded together'\n"
    "first[0] = 100.0\nassert rows[0][0] == 100.0 and grid[0, 0] == 100.0\n"
    "log_metric('total', float(grid.sum()))\n"
    "defined = 'late' in dir()\nimport json\n"
    "json.dump({'n_rows': n_rows, 'half': halve(grid.sum()), 'sizes': sizes,\n"
    "           'late': defined, 'row': rows[1].tolist()}, open(report, 'w'))",
]
INLINE = ["%%pipeline setup --inline-runtime" + CELLS[0].removeprefix("%%pipeline setup"), *CELLS[1:]]
EXPECTED = {"n_rows": 2, "half": 57.5, "sizes": [2, 3], "late": False, "row": [3.0, 4.0, 5.0]}


def _modules(documents: list[dict]) -> dict[str, str]:
    executors = documents[0]["deploymentSpec"]["executors"]
    return {name.removeprefix("exec-"): e["container"]["command"][-1] for name, e in executors.items()}


def _preludes(documents: list[dict]) -> dict[str, str]:
    executors = documents[0]["deploymentSpec"]["executors"]
    return {name.removeprefix("exec-"): e["container"]["command"][2] for name, e in executors.items()}


def test_steps_import_the_runtime_that_their_prelude_installs() -> None:
    documents = compile_documents(notebook_pipeline(CELLS))
    modules = _modules(documents)
    for name, module in modules.items():
        assert "from jupyter_mlops.step_runtime.run import _mlops_run_step as _mlops_run_step" in module
        assert not re.search(r"^def _mlops_", module, re.M), name  # no runtime function pasted
    for prelude in _preludes(documents).values():
        assert f"install --quiet --no-warn-script-location 'jupyter-mlops=={__version__}'" in prelude
    inline = compile_documents(notebook_pipeline(INLINE))
    assert not any("jupyter-mlops" in p for p in _preludes(inline).values())
    assert all("def _mlops_run_step(" in m for m in _modules(inline).values())


def test_each_step_carries_what_it_uses() -> None:
    pipeline = notebook_pipeline(INLINE)
    plan = plan_pipeline(pipeline)
    switches = {s.name: step_switches(plan, s) for s in plan.steps}
    assert switches["tally"] == {"_MLOPS_PARAMS_OUT"}
    assert "_MLOPS_LIKE" in switches["make"] and "_MLOPS_LIKE" not in switches["link"]
    assert "_MLOPS_SAVE_GROUPS" in switches["link"] and "_MLOPS_LOAD_GROUPS" in switches["read"]
    assert [n for n, on in switches.items() if "_MLOPS_SHIM" in on] == ["read"]
    modules = _modules(compile_documents(pipeline))
    tally = modules["tally"]
    assert "def _mlops_param(" in tally
    for absent in ("def _mlops_save(", "def _mlops_load(", "def _mlops_shim(", "def _mlops_pickle("):
        assert absent not in tally
    assert "def _mlops_load(" not in modules["make"] and "def _mlops_save_groups(" not in modules["read"]
    assert "def _mlops_save_groups(" in modules["link"] and "def _mlops_load_groups(" in modules["read"]
    assert "def _mlops_shim(" in modules["read"]
    assert not any("parquet" in m for m in modules.values())  # no pandas in this notebook
    assert len(tally) < min(len(m) for n, m in modules.items() if n != "tally")


@pytest.mark.parametrize("cells", [CELLS, INLINE], ids=["imported", "inline"])
def test_the_variants_run_here_and_on_kfp_local_alike(
    cells: list[str], run_pipeline: Runner, tmp_path: Path
) -> None:
    pipeline = notebook_pipeline(cells)
    ours = tmp_path / "ours.json"
    run = run_pipeline(compile_documents(pipeline), {"report": str(ours)})
    assert run.state == RunState.SUCCEEDED, run.error
    assert json.loads(ours.read_text()) == EXPECTED
    assert run.step("read").metrics["total"] == 115.0  # first[0] = 100 wrote into grid, as in the kernel

    path = tmp_path / "variants.yaml"
    path.write_text(compile_yaml(pipeline))
    theirs = tmp_path / "theirs.json"
    code = f"""
from kfp import components, local
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root={str(tmp_path / "root")!r})
pipeline = components.load_component_from_file({str(path)!r})
pipeline(report={str(theirs)!r})
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert json.loads(theirs.read_text()) == EXPECTED

"""The user's story: a notebook with setup, params and fan-out/fan-in steps becomes real KFP IR.

The same notebook compiles to byte-identical YAML in the kernel and from the CLI; the YAML is a valid
PipelineSpec; and kfp's own local runner (the reference executor) runs it with the right values arriving
in every step (each step asserts what it received; the last writes a report).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import pytest
import yaml

from jupyter_mlops._version import __version__

from .conftest import run_cell
from .notebooks import flow_notebook


@pytest.fixture
def notebook(tmp_path):
    return flow_notebook(tmp_path / "flow.ipynb")


def _kernel_compile(ip, notebook, out):
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            run_cell(ip, cell.source)
    run_cell(ip, f"%pipeline compile {out}")
    return out.read_bytes()


def _cli_compile(notebook, out):
    subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "compile", str(notebook), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def test_kernel_and_cli_compile_the_same_yaml(ip, notebook, tmp_path):
    kernel = _kernel_compile(ip, notebook, tmp_path / "kernel.yaml")
    cli = _cli_compile(notebook, tmp_path / "cli.yaml")
    assert kernel == cli
    docs = list(yaml.safe_load_all(cli))
    spec = docs[0]
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == {"make", "origin", "double", "count", "shift", "combine"}
    assert set(tasks["combine"]["dependentTasks"]) == {"double", "count", "shift", "make"}
    assert spec["root"]["inputDefinitions"]["parameters"]["scale"]["parameterType"] == "NUMBER_INTEGER"
    # dicts travel as artifacts (KFP would make the ints inside a STRUCT parameter floats), as the array
    make_outputs = spec["components"]["comp-make"]["outputDefinitions"]
    assert "parameters" not in make_outputs
    assert {"arr", "info", "meta"} <= set(make_outputs["artifacts"])
    count_outputs = spec["components"]["comp-count"]["outputDefinitions"]
    assert count_outputs["parameters"]["n_items"]["parameterType"] == "NUMBER_INTEGER"


def test_yaml_is_a_pipeline_spec(notebook, tmp_path):
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    text = _cli_compile(notebook, tmp_path / "flow.yaml")
    spec = json_format.ParseDict(next(yaml.safe_load_all(text)), pipeline_spec_pb2.PipelineSpec())
    assert spec.pipeline_info.name == "flow"
    # Steps import the step runtime only (issue 10: it is no longer pasted into each step), which
    # their prelude installs at this version; nothing else of the package.
    imports = re.findall(r"(?:from|import) (jupyter_mlops[\w.]*)", text.decode())
    assert imports and set(imports) == {"jupyter_mlops.step_runtime.run"}
    assert f"'jupyter-mlops=={__version__}'" in text.decode()


def test_kfp_local_runs_it_with_the_right_values(notebook, tmp_path):
    """kfp.local's SubprocessRunner is the reference executor: it proves the YAML is real."""
    path = tmp_path / "flow.yaml"
    _cli_compile(notebook, path)
    report = tmp_path / "report.json"
    code = f"""
from kfp import components, local
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root={str(tmp_path / "root")!r})
pipeline = components.load_component_from_file({str(path)!r})
pipeline(report={str(report)!r})
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    got = json.loads(report.read_text())
    assert got == {
        "doubled": [0.0, 4.0, 8.0, 12.0, 16.0, 20.0],
        "n_items": 12,
        "p2": [3.0, 4.0],
        "info": {"label": "exp", "n": 6},
        "meta": {"made_by": "exp", "sizes": [6]},
    }

"""Compiled steps stay small (issue 10): steps import the step runtime instead of carrying it, so the
demo's YAML is at most a third of the ~100 KB it was when every step carried its runtime; with
`--inline-runtime` each step carries it again (self-contained, larger), and both are the IR the
backends take (the YAML text and the documents a run submits load alike)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from jupyter_mlops.compiler import compile_documents, compile_yaml
from jupyter_mlops.notebook.reader import pipeline_from_notebook

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.ipynb"


def _inline_copy(tmp_path: Path) -> Path:
    """The demo with `--inline-runtime` on its setup cell."""
    notebook = json.loads(DEMO.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if source.startswith("%%pipeline setup"):
            cell["source"] = source.replace("%%pipeline setup", "%%pipeline setup --inline-runtime", 1)
    path = tmp_path / "demo_inline.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def test_the_demo_compiles_to_at_most_a_third_of_what_it_was(tmp_path: Path) -> None:
    pipeline = pipeline_from_notebook(DEMO)
    text = compile_yaml(pipeline)
    assert len(text.encode()) <= 33_000, len(text.encode())
    assert list(yaml.safe_load_all(text)) == compile_documents(pipeline)  # what both backends submit

    inline = compile_yaml(pipeline_from_notebook(_inline_copy(tmp_path)))
    assert "def _mlops_run_step(" in inline and "def _mlops_run_step(" not in text
    assert len(inline) > 3 * len(text)  # the trade-off README "Step runtime" states


def test_kfp_local_runs_the_demos_yaml_unchanged(tmp_path: Path) -> None:
    """kfp's own local runner (no venv, offline: the prelude finds jupyter-mlops installed) runs the
    25 KB YAML: every step imports the step runtime and the pipeline succeeds."""
    import subprocess
    import sys

    path = tmp_path / "demo.yaml"
    path.write_text(compile_yaml(pipeline_from_notebook(DEMO)), encoding="utf-8")
    code = f"""
from kfp import components, local
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root={str(tmp_path / "root")!r})
task = components.load_component_from_file({str(path)!r})()
print("demo-outputs", sorted(task.outputs))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "demo-outputs" in done.stdout
    said = done.stdout + done.stderr
    ok = re.findall(
        r"Task (?:\x1b\[\d+m)?'([\w-]+)'(?:\x1b\[0m)? finished with status (?:\x1b\[\d+m)?SUCCESS", said
    )
    assert len(set(ok)) == 6, said[-3000:]  # kfp colours the names and states
    assert "from jupyter_mlops.step_runtime.run import" in path.read_text(encoding="utf-8")

"""A run handed compiled documents keeps them as JSON and its runner reads them back (no YAML dump and
load between compiling and running, issue 15); YAML text handed to a run is kept as it came."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.compiler import compile_documents, compile_yaml
from jupyter_mlops.models import RunState
from jupyter_mlops.notebook.pipeline import Pipeline
from jupyter_mlops.notebook.reader import feed_cell
from jupyter_mlops.notebook.workspace import Workspace

from .contract import explain, finished

CELLS = [
    "%%pipeline params\nn = 3\n",
    "%%component make\nvalues = list(range(n))",
    "%%component total\nsize = len(values)\nlog_metric('size', size)",
]


def docs_pipeline() -> Pipeline:
    workspace = Workspace("docs")
    for index, source in enumerate(CELLS, start=1):
        feed_cell(workspace, source, f"code cell {index}")
    return workspace.active


def test_a_run_keeps_documents_as_json_and_text_as_it_came(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "home")
    pipeline = docs_pipeline()
    documents = compile_documents(pipeline)
    run = backend.submit(documents, {"n": 4})
    text = compile_yaml(pipeline)
    other = backend.submit(text, {"n": 2})
    for info in (run, other):
        done = finished(backend, info.id)
        assert done.state is RunState.SUCCEEDED, explain(done)
    run_dir = backend.store.run_dir(run.id)
    assert json.loads((run_dir / "pipeline.json").read_text()) == documents
    assert not (run_dir / "pipeline.yaml").exists()
    assert (backend.store.run_dir(other.id) / "pipeline.yaml").read_text() == text
    assert backend.get(run.id).metrics["total.size"] == 4.0
    assert backend.get(other.id).metrics["total.size"] == 2.0

"""A run handed compiled documents keeps them as JSON and its runner reads them back (no YAML dump and
load between compiling and running, issue 15); YAML text handed to a run is kept as it came."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import pytest

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


def test_the_same_documents_again_are_kept_as_a_link_to_the_earlier_runs_file(tmp_path: Path) -> None:
    """Issue 15: encoding the IR again cost a cached re-run more than its store writes. Documents equal
    to a recent run's share its pipeline.json (a hard link, no bytes written); changed documents, or an
    earlier file that is gone, are written afresh."""
    import shutil

    backend = LocalBackend(tmp_path / "home")
    documents = compile_documents(docs_pipeline())
    runs = [backend.submit(documents, {"n": 3}).id for _ in range(2)]
    runs.append(backend.submit(json.loads(json.dumps(documents)), {"n": 3}).id)  # equal, not the same list
    files = [backend.store.run_dir(r) / "pipeline.json" for r in runs]
    assert len({f.stat().st_ino for f in files}) == 1  # one file, linked from each run
    assert json.loads(files[2].read_text()) == documents

    changed = json.loads(json.dumps(documents))
    changed[0]["pipelineInfo"]["description"] = "changed"
    other = backend.store.run_dir(backend.submit(changed, {"n": 3}).id) / "pipeline.json"
    assert other.stat().st_ino != files[0].stat().st_ino
    assert json.loads(other.read_text()) == changed

    for run in runs:  # the runs holding the file are deleted: the next run writes it again
        finished(backend, run)
        shutil.rmtree(backend.store.run_dir(run))
    again = backend.store.run_dir(backend.submit(documents, {"n": 3}).id) / "pipeline.json"
    assert json.loads(again.read_text()) == documents
    for run in runs:
        assert not backend.store.run_dir(run).exists()


def test_the_same_documents_again_are_read_once_and_documents_changed_in_place_are_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: a run of the same documents as a recent run reuses the IR read for that run (the shape
    check and each task's executor, per run before); documents the caller changed in place since are
    not equal any more: read, run and kept as they are now."""
    from jupyter_mlops.ir import kept_documents, spec

    reads: list[object] = []
    real = spec.PipelineIR

    class Counted(real):  # type: ignore[misc,valid-type]
        def __init__(self, documents: object) -> None:
            reads.append(documents)
            super().__init__(documents)  # type: ignore[arg-type]

    monkeypatch.setattr(kept_documents, "_recent", deque(maxlen=kept_documents.REMEMBERED))  # none kept yet
    monkeypatch.setattr(kept_documents, "PipelineIR", Counted)
    monkeypatch.setattr("jupyter_mlops.backends.local.PipelineIR", Counted)
    backend = LocalBackend(tmp_path / "home")
    documents = compile_documents(docs_pipeline())
    first = [backend.submit(documents, {"n": 3}).id for _ in range(4)]
    assert len(reads) == 2  # the caller's documents for the first run, the kept ones once after that

    documents[0]["root"]["inputDefinitions"]["parameters"]["n"]["defaultValue"] = 7
    changed = backend.submit(documents).id
    assert len(reads) == 3
    assert json.loads((backend.store.run_dir(changed) / "pipeline.json").read_text()) == documents
    run = finished(backend, changed)
    assert run.state is RunState.SUCCEEDED, explain(run)
    assert run.parameters == {"n": 7} and run.metrics["total.size"] == 7.0
    for run_id in first:
        assert finished(backend, run_id).metrics["total.size"] == 3.0


def test_a_run_handed_to_the_service_encodes_its_documents_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the documents were encoded to JSON for the run's pipeline.json, then again for the
    runner service (~20 ms each for 1,000 steps): the service now gets the file's text."""
    from jupyter_mlops.backends import service_client

    backend = LocalBackend(tmp_path / "home")
    documents = compile_documents(docs_pipeline())
    documents[0]["pipelineInfo"]["description"] = "encoded once"  # not a recent run's (then a link)
    if service_client.service_wanted() is not None:
        pytest.skip(f"no runner service here: {service_client.service_wanted()}")
    encoded: list[object] = []
    real = json.dumps

    def counted(obj: object, *args: object, **kwargs: object) -> str:
        if obj == documents or (isinstance(obj, dict) and obj.get("documents") is not None):
            encoded.append(obj)
        return real(obj, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(json, "dumps", counted)
    run = backend.submit(documents, {"n": 5})
    monkeypatch.setattr(json, "dumps", real)
    assert len(encoded) == 1, [type(o).__name__ for o in encoded]
    done = finished(backend, run.id)
    assert done.state is RunState.SUCCEEDED, explain(done)
    assert backend.store.runner_record(run.id)["service"]  # the service ran it
    assert backend.get(run.id).metrics["total.size"] == 5.0


@pytest.mark.parametrize("runner_mode", ["process", "service"])
def test_the_copy_kept_of_new_documents_is_decoded_after_the_run_is_handed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner_mode: str
) -> None:
    """Issue 15: the copy kept of a run's documents (kept_documents.py) was decoded from the JSON just
    written before the run was handed to its runner (~11 ms for 1,000 steps, on the path to its first
    step): now after the hand-over, once; a later run of the same documents still links the file."""
    from jupyter_mlops.backends import local
    from jupyter_mlops.ir import kept_documents

    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", runner_mode)
    monkeypatch.setattr(kept_documents, "_recent", deque(maxlen=kept_documents.REMEMBERED))  # none kept yet
    documents = compile_documents(docs_pipeline())
    decoded: list[object] = []
    real = json.loads

    def counted(text: str | bytes, *args: object, **kwargs: object) -> object:
        value = real(text, *args, **kwargs)
        if isinstance(value, list) and value == documents:  # (the store's own JSON is not counted)
            decoded.append(value)
        return value

    handed: list[int] = []
    real_start = local.LocalBackend._start_runner

    def start(self: LocalBackend, *args: object, **kwargs: object) -> None:
        handed.append(len(decoded))
        real_start(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kept_documents.json, "loads", counted)
    monkeypatch.setattr(local.LocalBackend, "_start_runner", start)
    backend = LocalBackend(tmp_path / "home")
    first = backend.submit(documents, {"n": 3})
    again = backend.submit(documents, {"n": 3})
    monkeypatch.setattr(kept_documents.json, "loads", real)
    assert handed == [0, 1]  # not decoded before its hand-over; decoded once, after it
    assert len(decoded) == 1
    for run in (first, again):
        done = finished(backend, run.id)
        assert done.state is RunState.SUCCEEDED, explain(done)
        assert done.metrics["total.size"] == 3.0
    files = {(backend.store.run_dir(r.id) / "pipeline.json").stat().st_ino for r in (first, again)}
    assert len(files) == 1  # the later run links the first's file, as before

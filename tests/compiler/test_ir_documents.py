"""No serialization between compiling and running (issue 15): the IR comes from kfp as dicts, with no
YAML written or read, equal to what kfp's own YAML loads as."""

from __future__ import annotations

import json

import pytest
import yaml

from jupyter_mlops.compiler import compile_documents, compile_yaml
from jupyter_mlops.notebook.pipeline import Pipeline
from jupyter_mlops.notebook.reader import feed_cell
from jupyter_mlops.notebook.workspace import Workspace

CELLS = [
    "%%pipeline params\nn = 3\n",
    "%%component make --node-selector disk=ssd\nvalues = list(range(n))",
    "%%component total\nsize = len(values)\nlog_metric('size', size)",
]


def docs_pipeline() -> Pipeline:
    workspace = Workspace("docs")
    for index, source in enumerate(CELLS, start=1):
        feed_cell(workspace, source, f"code cell {index}")
    return workspace.active


def test_the_documents_are_kfps_own_without_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline = docs_pipeline()
    expected = list(yaml.safe_load_all(compile_yaml(pipeline)))
    assert len(expected) == 2  # the pipeline spec, then the node selector's platform spec

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("YAML written or read on the way to a run")

    for name in ("dump", "dump_all", "safe_dump", "safe_dump_all", "load", "load_all", "safe_load",
                 "safe_load_all"):  # fmt: skip
        monkeypatch.setattr(yaml, name, refuse)
    documents = compile_documents(pipeline)
    assert documents == expected
    # in the same order too (kfp writes sorted keys; the order of tasks gives the order of steps)
    assert json.dumps(documents) == json.dumps(expected)

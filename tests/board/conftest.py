"""A real TensorBoard (started the way jupyter-mlops starts it) over logdirs that the tests write."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.tensorboards.process import LocalInstances
from jupyter_mlops.tensorboards.registry import register_logdir


@pytest.fixture(autouse=True)
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's TensorBoard records and logs in its own folder."""
    folder = tmp_path / "tensorboard-registry"
    monkeypatch.setenv("JUPYTER_MLOPS_TENSORBOARD_DIR", str(folder))
    return folder


class Board:
    """A TensorBoard serving one logdir (or named logdirs) on 127.0.0.1, and its HTTP API."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def raw(self, path: str, **query: str) -> bytes:
        url = f"{self.base}/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        with urllib.request.urlopen(url, timeout=60) as response:
            body: bytes = response.read()
            return body

    def json(self, path: str, **query: str) -> Any:
        return json.loads(self.raw(path, **query))

    def projector_info(self, run: str) -> dict[str, dict[str, Any]]:
        info = self.json("data/plugin/projector/info", run=run)
        return {e["tensorName"]: e for e in info["embeddings"]}

    def tensor(self, run: str, name: str) -> list[list[float]]:
        import numpy as np

        info = self.projector_info(run)[name]
        rows, cols = info["tensorShape"]
        data = np.frombuffer(self.raw("data/plugin/projector/tensor", run=run, name=name), dtype="<f4")
        return data.reshape(rows, cols).tolist()  # type: ignore[no-any-return]

    def metadata(self, run: str, name: str) -> list[list[str]]:
        text = self.raw("data/plugin/projector/metadata", run=run, name=name).decode("utf-8")
        return [line.split("\t") for line in text.rstrip("\n").split("\n")]


@pytest.fixture
def tensorboard() -> Iterator[Callable[[Any], Board]]:
    instances = LocalInstances()

    def start(logdirs: Any) -> Board:
        instance, _ = instances.ensure(register_logdir(logdirs))
        return Board(instance.port)

    yield start
    instances.stop_all()

"""A KFP run's values in the sidebar, through the server extension configured with `backend = kfp`
against the stand-in KFP server: the run view's step detail carries the previews KFP's launcher
recorded in ML Metadata and the figures the step showed, and the artifact route serves a value's bytes
and a figure, downloaded through the KFP UI's artifact endpoint with the server's credentials (the
browser never holds them)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp_standin import StandIn

from .conftest import MlopsApi, write_notebook

VALUES = [
    "%load_ext jupyter_mlops",
    "%%component make\nimport numpy as np\nimport pandas as pd\n"
    "frame = pd.DataFrame({'x': [1.0, 2.0, 3.0], 'name': ['a', 'b', 'c']})\nweights = np.arange(6.0)\n"
    "import matplotlib.pyplot as plt\nplt.plot(weights)\nplt.show()",
    "%%component total\ntotal = float(frame['x'].sum() + weights.sum())\nprint('total', total)",
]


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path / "kfp-standin", tokens={"notebook-token": {"*"}})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def jp_server_config(jp_server_config: Any, standin: StandIn) -> Any:
    jp_server_config.MlopsExtensionApp.backend = "kfp"
    jp_server_config.MlopsExtensionApp.backend_options = {
        "host": standin.url,
        "existing_token": "notebook-token",
    }
    return jp_server_config


async def test_the_step_detail_shows_a_kfp_values_preview_and_serves_its_bytes(
    api: MlopsApi, jp_root_dir: Path, standin: StandIn
) -> None:
    import numpy as np

    write_notebook(jp_root_dir / "values.ipynb", VALUES)
    _, created = await api.call("POST", "runs", {"notebook": "values.ipynb"})
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    assert run["state"] == "SUCCEEDED", run

    detail = await api.get(f"runs/{run['id']}", step="make")
    made = {a["metadata"].get("variable"): a for a in detail["artifacts"] if a["step"] == "make"}
    frame = made["frame"]["metadata"]["preview"]
    assert frame["kind"] == "table" and frame["columns"] == ["x", "name"] and len(frame["rows"]) == 3
    assert made["weights"]["metadata"]["preview"]["shape"] == [6]

    body = await api.get(f"runs/{run['id']}/steps/make/artifacts/{made['weights']['name']}")
    assert np.load(io.BytesIO(body)).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]

    [step] = [s for s in detail["steps"] if s["name"] == "make"]
    [figure] = step["figures"]  # the plot the step showed, served by the artifact route as on local
    assert figure["mime"] == "image/png"
    image = await api.get(f"runs/{run['id']}/steps/make/artifacts/{figure['artifact']}", path=figure["file"])
    assert image.startswith(b"\x89PNG")
    assert [r for r in standin.requests if r.startswith("GET /artifacts/get?")]  # read through the UI

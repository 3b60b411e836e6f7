"""Issue 11 through the REST API: steps under the names the cells gave them, their values described
(what they are and which step made them), no internal outputs and no paths; a run found by its name."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import MlopsApi, write_notebook

CELLS = [
    "%load_ext jupyter_mlops",
    "%%component make_data\nimport numpy as np\nvalues = np.zeros((4, 2), dtype='int32')\n"
    "log_metric('n', 4)\nlabel = 'four'\nprint('made')",
    "%%component use_data\ntotal = int(values.sum())\nprint(label, total)\nNone",
    "%%component plot\nimport matplotlib.pyplot as plt\nplt.plot(values[:, 0])\nplt.title(label)",
]


async def test_steps_and_values_as_the_user_wrote_them(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "values.ipynb", CELLS)
    _, created = await api.call("POST", "runs", {"notebook": "values.ipynb"})
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    assert run["state"] == "SUCCEEDED", run
    steps = {s["name"]: s for s in run["steps"]}
    assert set(steps) == {"make_data", "use_data", "plot"} and ["make_data", "use_data"] in run["edges"]
    assert steps["make_data"]["outputs"] == {"values": "numpy.ndarray (4, 2) int32", "label": "four"}
    assert steps["use_data"]["inputs"] == {
        "values": "numpy.ndarray (4, 2) int32 from make_data",
        "label": "four",  # a parameter: its value
    }
    assert steps["use_data"]["outputs"] == {}  # its last value was None: nothing to show
    assert all(a["name"] != "mlops_metrics" for a in run["artifacts"])
    assert str(jp_root_dir) not in json.dumps(run["steps"])  # no absolute paths in what is shown

    assert steps["use_data"]["figures"] == []
    assert steps["plot"]["figures"] == [
        {"file": "figure-1.png", "mime": "image/png", "artifact": "mlops_figures"}
    ]
    figure = steps["plot"]["figures"][0]
    code, png = await api.call(
        "GET", f"runs/{run['id']}/steps/plot/artifacts/{figure['artifact']}", path=figure["file"]
    )
    assert code == 200 and png[:8] == b"\x89PNG\r\n\x1a\n", png[:20]
    assert "Text(" in steps["plot"]["outputs"]["result"]  # the last value's repr, as the notebook shows

    by_name = await api.get(f"runs/{run['name']}")
    assert by_name["id"] == run["id"]
    log = await api.get(f"runs/{run['name']}/steps/use_data/log")
    assert "four 0" in log["text"]


HISTORY_CELLS = [
    "%load_ext jupyter_mlops",
    "%%component train\nfor i in range(4):\n    log_metric('loss', 1 / (i + 1), step=i)\n"
    "log_metric('n', 4)\nw = 1",
    "%%component after\nv = w + 1",
]


async def test_the_step_asked_for_carries_its_metric_histories(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "histories.ipynb", HISTORY_CELLS)
    _, created = await api.call("POST", "runs", {"notebook": "histories.ipynb"})
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    assert run["state"] == "SUCCEEDED", run
    assert all("histories" not in s and "visuals" not in s for s in run["steps"])  # only when asked

    asked = await api.get(f"runs/{run['id']}", step="train")
    steps = {s["name"]: s for s in asked["steps"]}
    # `n` was logged once: a number in the metrics, not a chart
    assert steps["train"]["histories"] == {"loss": [[0.0, 1.0], [1.0, 0.5], [2.0, 1 / 3], [3.0, 0.25]]}
    assert steps["train"]["visuals"] == []
    assert "histories" not in steps["after"]
    after = {s["name"]: s for s in (await api.get(f"runs/{run['id']}", step="after"))["steps"]}["after"]
    assert after["histories"] == {} and after["visuals"] == []
    assert (await api.get(f"runs/{run['id']}", step="nothing"))["id"] == run["id"]  # no such step: no charts

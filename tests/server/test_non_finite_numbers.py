"""NaN and the infinities reach every answer as valid JSON: the strings "NaN", "Infinity", "-Infinity"
(as KFP's UI shows them), so a diverging loss or an argument `1e400` never breaks the run list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import MlopsApi, write_notebook

DIVERGES = [
    "%load_ext jupyter_mlops",
    "%%pipeline params\nlr = 0.1",
    "%%component train\nfrom jupyter_mlops import log_metric\n"
    "log_metric('loss', float('nan'))\nlog_metric('gain', float('inf'))\n"
    "log_metric('drop', float('-inf'))\nlog_metric('acc', 0.5)\nprint('lr is', lr)",
]


def strict_json(text: bytes | str) -> Any:
    """`text` as JSON, refusing the `NaN`/`Infinity` tokens Python's json writes and JSON forbids."""

    def refuse(token: str) -> Any:
        raise AssertionError(f"invalid JSON token {token!r} in {text!r:.300}")

    return json.loads(text, parse_constant=refuse)


async def test_nan_and_infinite_metrics_and_arguments_are_valid_json_everywhere(
    api: MlopsApi, jp_root_dir: Path
) -> None:
    write_notebook(jp_root_dir / "diverges.ipynb", DIVERGES)
    # 1e400 in the request: Python's json reads it as inf, as a browser's JSON.parse does
    code, created = await api.call(
        "POST", "runs", '{"notebook": "diverges.ipynb", "arguments": {"lr": 1e400}}'
    )
    assert code == 201, created
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    assert run["state"] == "SUCCEEDED", run

    raw = [
        await api._fetch("mlops", "api", "runs", run["id"]),
        await api._fetch("mlops", "api", "runs"),
    ]
    detail, page = (strict_json(r.body) for r in raw)
    for metrics in (detail["metrics"], page["runs"][0]["metrics"]):
        assert metrics == {
            "train.loss": "NaN",
            "train.gain": "Infinity",
            "train.drop": "-Infinity",
            "train.acc": 0.5,
        }
    assert detail["steps"][0]["metrics"] == {
        "loss": "NaN",
        "gain": "Infinity",
        "drop": "-Infinity",
        "acc": 0.5,
    }
    assert detail["parameters"]["lr"] == "Infinity" and page["runs"][0]["parameters"]["lr"] == "Infinity"

    stream = await api._fetch("mlops", "api", "runs", run["id"], "events", params={"follow": "false"})
    datas = [line[len("data: ") :] for line in stream.body.decode().splitlines() if line.startswith("data: ")]
    assert datas
    events = [strict_json(d) for d in datas]
    # the first point of a run is always an event (later ones at most once a second)
    assert {"index": None, "name": "loss", "value": "NaN"} in [
        e["detail"] for e in events if e["kind"] == "metric"
    ]

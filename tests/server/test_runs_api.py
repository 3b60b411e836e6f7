"""A notebook user's runs through `mlops/api`: start one from a notebook, watch it, read its logs
and artifacts, cancel a long one. Every answer is checked against openapi.yaml by the `api` client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlops.backends.local import LocalBackend

from .conftest import LONG_STEP, TWO_STEPS, MlopsApi, write_notebook


async def test_a_notebook_started_from_the_server_runs_to_success(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "work" / "sums.ipynb", TWO_STEPS)

    code, created = await api.call("POST", "runs", {"notebook": "work/sums.ipynb", "experiment": "sums"})

    assert code == 201, created
    assert created["state"] in {"PENDING", "RUNNING"}
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    assert run["state"] == "SUCCEEDED", run
    assert [s["name"] for s in run["steps"]] == ["make", "total"]
    assert run["edges"] == [["make", "total"]]
    # The layout is the one views.layout computes: the front end only draws it.
    nodes = {n["id"]: n for n in run["layout"]["nodes"]}
    assert set(nodes) == {"make", "total"} and nodes["make"]["x"] < nodes["total"]["x"]
    assert [(e["source"], e["target"]) for e in run["layout"]["edges"]] == [("make", "total")]

    log = await api.get(f"runs/{run['id']}/steps/total/log")
    assert "the total is 6" in log["text"] and log["complete"] is True
    rest = await api.get(f"runs/{run['id']}/steps/total/log", offset=log["next_offset"])
    assert rest["text"] == "" and rest["offset"] == log["next_offset"]
    # The sidebar's view: kfp's executor lines left out by the server (the filter's only copy).
    assert "Got executor_input:" in log["text"]
    shown = await api.get(f"runs/{run['id']}/steps/total/log", executor_lines="hide", filter_state="")
    assert "the total is 6" in shown["text"] and "KFP Executor" not in shown["text"]
    assert shown["complete"] is True and shown["filter_state"] == ""
    code, refused = await api.call("GET", f"runs/{run['id']}/steps/total/log", filter_state="elsewhere")
    assert code == 400 and "read from offset 0" in refused["message"]

    page = await api.get("runs", experiment="sums")
    assert [r["id"] for r in page["runs"]] == [run["id"]] and page["total"] == 1
    experiments = await api.get("experiments")
    assert {"name": "sums", "run_count": 1}.items() <= _by_name(experiments["experiments"])["sums"].items()


async def test_steps_read_relative_paths_from_the_notebooks_folder(api: MlopsApi, jp_root_dir: Path) -> None:
    data = jp_root_dir / "work" / "data"
    data.mkdir(parents=True)
    (data / "numbers.txt").write_text("3\n4\n")
    write_notebook(
        jp_root_dir / "work" / "reads.ipynb",
        [
            "%load_ext jupyter_mlops",
            "%%component load\nnumbers = [int(x) for x in open('data/numbers.txt')]",
            "%%component total\nprint('the total is', sum(numbers))",
        ],
    )

    code, created = await api.call("POST", "runs", {"notebook": "work/reads.ipynb"})

    assert code == 201, created
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    assert run["state"] == "SUCCEEDED", run  # not a FileNotFoundError: the step worked in work/
    log = await api.get(f"runs/{run['id']}/steps/total/log")
    assert "the total is 7" in log["text"]
    assert sorted(p.name for p in (jp_root_dir / "work").iterdir()) == ["data", "reads.ipynb"]


async def test_a_set_crosses_steps_as_an_artifact_that_downloads(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, created = await api.call("POST", "runs", {"notebook": "sums.ipynb"})
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})

    artifact = next(a for a in run["artifacts"] if a["step"] == "make")
    code, data = await api.call("GET", f"runs/{run['id']}/steps/make/artifacts/{artifact['name']}")

    assert code == 200 and len(data) > 0


async def test_a_long_run_is_cancelled(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "long.ipynb", LONG_STEP)
    _, created = await api.call("POST", "runs", {"notebook": "long.ipynb"})
    await api.wait_for(created["id"], {"RUNNING"})
    await _step_has_logged(api, created["id"], "nap", "napping")  # the step itself is running, not queued

    code, cancelling = await api.call("POST", f"runs/{created['id']}/cancel")

    assert code == 200 and cancelling["state"] in {"CANCELING", "CANCELED"}
    run = await api.wait_for(created["id"], {"CANCELED", "FAILED", "SUCCEEDED"}, timeout=60)
    assert run["state"] == "CANCELED"
    assert run["steps"][0]["state"] == "CANCELED"
    log = await api.get(f"runs/{run['id']}/steps/nap/log")
    assert "napping" in log["text"]  # a cancelled run keeps what it logged


async def _step_has_logged(api: MlopsApi, run_id: str, step: str, text: str, timeout: float = 60.0) -> None:
    """Wait until `step` has written `text` to its log. (A run is RUNNING as soon as its runner starts; a
    cancel then can find the step not yet started, and a step that never started ends SKIPPED.)"""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        code, log = await api.call("GET", f"runs/{run_id}/steps/{step}/log")
        if code == 200 and text in log.get("text", ""):
            return
        assert time.monotonic() < deadline, f"step {step} of run {run_id} never logged {text!r}"
        await asyncio.sleep(0.1)


async def test_events_stream_the_runs_changes_as_server_sent_events(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, created = await api.call("POST", "runs", {"notebook": "sums.ipynb"})

    # Following: the stream ends by itself once the run has finished.
    stream = await api.get(f"runs/{created['id']}/events")

    events = _server_sent_events(stream.decode())
    assert events, stream
    assert [int(e["id"]) for e in events] == sorted(int(e["id"]) for e in events)
    last_run_event = [e for e in events if e["event"] == "run"][-1]
    assert '"state": "SUCCEEDED"' in last_run_event["data"]
    later = await api.get(f"runs/{created['id']}/events", after=events[-1]["id"], follow="false")
    assert later == b""


async def test_the_event_stream_is_woken_by_the_runs_changes_not_by_a_poll(
    api: MlopsApi, jp_root_dir: Path, monkeypatch: Any
) -> None:
    """With its periodic look set to an hour, the stream can only follow the run by the pushed changes
    (store/run_notify.py); it still ends by itself when the run finishes."""
    from jupyter_mlops.server import event_handlers

    monkeypatch.setattr(event_handlers, "POLL_S", 3600.0)
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, created = await api.call("POST", "runs", {"notebook": "sums.ipynb"})

    stream = await api.get(f"runs/{created['id']}/events")

    events = _server_sent_events(stream.decode())
    assert '"state": "SUCCEEDED"' in [e for e in events if e["event"] == "run"][-1]["data"]


async def test_runs_page_newest_first(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    ids = []
    for name in ("first", "second", "third"):
        _, created = await api.call("POST", "runs", {"notebook": "sums.ipynb", "name": name})
        ids.append(created["id"])

    first_page = await api.get("runs", limit=2)
    second_page = await api.get("runs", limit=2, offset=2)

    assert [r["name"] for r in first_page["runs"]] == ["third", "second"]
    assert first_page["total"] == 3 and first_page["next_offset"] == 2
    assert [r["name"] for r in second_page["runs"]] == ["first"]
    assert second_page["next_offset"] is None
    for run_id in ids:
        await api.wait_for(run_id, {"SUCCEEDED", "FAILED"})


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


def _server_sent_events(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if fields:
            events.append(fields)
    return events


async def test_a_directory_artifact_serves_a_named_file_inside_it(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, created = await api.call("POST", "runs", {"notebook": "sums.ipynb"})
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    artifact = next(a for a in run["artifacts"] if a["step"] == "make")
    url = f"runs/{run['id']}/steps/make/artifacts/{artifact['name']}"
    _, whole = await api.call("GET", url)

    code, named = await api.call("GET", url, path="value.pkl")

    assert code == 200 and named == whole


async def test_a_file_with_a_non_latin1_name_downloads_under_its_name(
    api: MlopsApi, jp_root_dir: Path, mlops_home: Path
) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, created = await api.call("POST", "runs", {"notebook": "sums.ipynb"})
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    name = next(a["name"] for a in run["artifacts"] if a["step"] == "make")
    # A step that writes 日本.txt into its output folder, as a TensorBoard logdir holds its files.
    backend = LocalBackend(home=mlops_home)
    artifact_dir = Path(next(a.uri for a in backend.artifacts(run["id"], "make") if a.name == name))
    backend.close()
    (artifact_dir / '日本 "q".txt').write_text("こんにちは")

    response = await api._fetch(
        "mlops", "api", "runs", run["id"], "steps", "make", "artifacts", name, params={"path": '日本 "q".txt'}
    )

    assert response.code == 200 and response.body.decode() == "こんにちは"
    disposition = response.headers["Content-Disposition"]
    # RFC 6266: an ASCII fallback for old clients, the UTF-8 name (RFC 5987) for every browser
    assert disposition == (
        "attachment; filename=\"__ _q_.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%20%22q%22.txt"
    )

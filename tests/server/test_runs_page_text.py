"""The runs list's first page, asked again and again (a sidebar polls it every 2 s): while the backend
lists the same runs the page's JSON is written once; any change (a run finished, a new run, another
query) is written anew, and the answer is the same JSON, with the same type, as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.models import RunState
from jupyter_mlops.render import finite_json
from jupyter_mlops.store import RunStore, new_run_id

from .conftest import MlopsApi


async def test_the_same_page_is_written_once_and_a_changed_one_anew(
    api: MlopsApi, mlops_home: Path, jp_fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(mlops_home)
    ids = [new_run_id() for _ in range(3)]
    for i, run_id in enumerate(ids):
        store.create_run(run_id=run_id, name=f"run {i}", experiment=None, pipeline_name="p", parameters={})
    written: list[Any] = []
    real = finite_json.dumps

    def counting(value: Any) -> str:
        if isinstance(value, dict) and "runs" in value:
            written.append(value)
        return real(value)

    monkeypatch.setattr(finite_json, "dumps", counting)
    first = await api.get("runs", limit=10)
    assert [r["id"] for r in first["runs"]] == ids[::-1]
    for _ in range(4):
        assert await api.get("runs", limit=10) == first
    assert len(written) == 1

    response = await jp_fetch("mlops", "api", "runs", params={"limit": "10"})
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"

    store.finish_run(ids[0], RunState.SUCCEEDED, None)  # a run finished: the page is written anew
    page = await api.get("runs", limit=10)
    assert {r["id"]: r["state"] for r in page["runs"]}[ids[0]] == "SUCCEEDED"
    newer = new_run_id()
    store.create_run(run_id=newer, name="newer", experiment=None, pipeline_name="p", parameters={})
    assert (await api.get("runs", limit=10))["runs"][0]["id"] == newer
    other = await api.get("runs", limit=2)  # another query: its own page
    assert [r["id"] for r in other["runs"]] == [newer, ids[2]] and other["limit"] == 2
    assert (await api.get("runs", limit=2, offset=2))["offset"] == 2
    store.close()


def test_a_backend_that_cannot_be_weakly_referenced_still_gets_its_pages() -> None:
    from jupyter_mlops.models import RunInfo, RunPage
    from jupyter_mlops.server.page_texts import page_texts

    class Slotted:  # a registered backend class may have no __weakref__
        __slots__ = ()

    page = RunPage(runs=[RunInfo(id="r1", name="one", state=RunState.SUCCEEDED)], total=1)
    text = page_texts(Slotted()).text(page, limit=10, offset=0, query=(None, None, None))
    assert '"id": "r1"' in text and '"total": 1' in text

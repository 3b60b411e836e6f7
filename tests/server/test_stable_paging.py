"""Paging through runs while runs are created (issue 12, item 12): following `next_cursor` gives every
run that existed at the first page exactly once; `offset` paging repeats rows in the same situation."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlops.store import RunStore, new_run_id

from .conftest import MlopsApi


def add_runs(home: Path, count: int) -> None:
    store = RunStore(home)
    for i in range(count):
        store.create_run(
            run_id=new_run_id(), name=f"run {i}", experiment=None, pipeline_name="p", parameters={}
        )
    store.close()


async def test_cursor_paging_is_stable_while_runs_are_created(api: MlopsApi, mlops_home: Path) -> None:
    add_runs(mlops_home, 12)
    seen: list[str] = []
    page = await api.get("runs", limit=5)
    first_total = page["total"]
    while True:
        seen += [r["id"] for r in page["runs"]]
        add_runs(mlops_home, 3)  # newer runs arrive between pages
        if page["next_cursor"] is None:
            break
        page = await api.get("runs", limit=5, cursor=page["next_cursor"])
    assert len(seen) == len(set(seen)) == first_total == 12


async def test_offset_paging_repeats_rows_when_runs_are_created(api: MlopsApi, mlops_home: Path) -> None:
    add_runs(mlops_home, 10)
    first = await api.get("runs", limit=5)
    add_runs(mlops_home, 2)
    second = await api.get("runs", limit=5, offset=5)
    repeated = {r["id"] for r in first["runs"]} & {r["id"] for r in second["runs"]}
    assert len(repeated) == 2  # why the cursor exists


async def test_a_cursor_that_is_not_one_is_a_400(api: MlopsApi) -> None:
    code, body = await api.call("GET", "runs", cursor="yesterday")
    assert code == 400 and "is not a page's next_cursor" in body["message"]

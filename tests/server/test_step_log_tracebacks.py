"""The sidebar's log of a failed step (`executor_lines=hide`) shows its traceback as `%pipeline logs`
does: from the user's cell on, the step runner's frames above it left out, however the reads cut it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.render import log_filter
from jupyter_mlops.run_follow import print_logs

from .conftest import MlopsApi, write_notebook

FAILS = [
    "%load_ext jupyter_mlops",
    "%%component make\nvalues = [1, 2, 3]\nprint('made', values)",
    "%%component crunch\n"
    "import traceback\n"
    "print('working on it', flush=True)\n"
    "try:\n"
    "    int('seven')\n"
    "except ValueError:\n"
    "    traceback.print_exc()  # a traceback the step prints and goes on\n"
    "total = sum(values)\n"
    "ratio = total / (len(values) - 3)",
]


async def _read(api: MlopsApi, route: str, **params: Any) -> tuple[str, list[dict[str, Any]]]:
    """The whole log read as runview.ts reads it: from each answer's next_offset, with its filter_state
    when executor lines are hidden, until an answer is complete."""
    hide = params.get("executor_lines") == "hide"
    offset, state, parts, answers = 0, "", [], []
    for _ in range(100_000):
        query = dict(params, offset=offset) | ({"filter_state": state} if hide else {})
        answer = await api.get(route, **query)
        assert answer["offset"] == offset
        answers.append(answer)
        parts.append(answer["text"])
        if answer["complete"]:
            return "".join(parts), answers
        assert answer["next_offset"] > offset, answer  # the step has ended: every read gets further
        offset, state = answer["next_offset"], answer.get("filter_state", "")
    raise AssertionError("the reads never reached the end of the log")


def as_the_sidebar_says(magic: str) -> str:
    """The magic's text with the left-out line naming what shows every line in the sidebar (its
    checkbox) instead of the magic's flag: the rest is the same text."""
    said = f"; {log_filter.FLAG} shows them]"
    assert said in magic, magic
    return magic.replace(said, f"; {log_filter.SIDEBAR} shows them]")


async def _failed(
    api: MlopsApi, jp_root_dir: Path, mlops_home: Path, name: str = "fails.ipynb", cells: list[str] = FAILS
) -> tuple[str, str, str]:
    """A failed run's id, its `crunch` step's log as `%pipeline logs` prints it, and the raw log."""
    write_notebook(jp_root_dir / name, cells)
    _, created = await api.call("POST", "runs", {"notebook": name})
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    assert run["state"] == "FAILED", run
    backend = LocalBackend(home=mlops_home)
    try:
        shown, raw = io.StringIO(), io.StringIO()
        print_logs(backend, run["id"], "crunch", follow=False, out=shown)  # what the magic calls
        print_logs(backend, run["id"], "crunch", follow=False, out=raw, executor_lines=True)
    finally:
        backend.close()
    return run["id"], shown.getvalue(), raw.getvalue()


async def test_a_failed_steps_log_read_whole_starts_its_traceback_at_the_cell(
    api: MlopsApi, jp_root_dir: Path, mlops_home: Path
) -> None:
    run_id, magic, raw = await _failed(api, jp_root_dir, mlops_home)
    assert "worker.py" in raw and "Got executor_input:" in raw  # the frames and lines to leave out
    assert "frames of the step runner left out" in magic and "worker.py" not in magic, magic
    assert '  File "<cell crunch>", line 9, in <module>' in magic
    assert magic.rstrip().endswith("ZeroDivisionError: division by zero"), magic

    answer = await api.get(f"runs/{run_id}/steps/crunch/log", executor_lines="hide", filter_state="")

    # Before, the answer held the worker's, kfp's and the runtime's frames above the cell's.
    assert answer["complete"] is True and answer["filter_state"] == ""
    assert answer["text"] == as_the_sidebar_says(magic)
    assert "the 'kfp executor lines' box shows them]" in answer["text"]


@pytest.mark.parametrize("limit", [1, 13, 97, 700])
async def test_read_in_small_chunks_the_log_is_the_same(
    api: MlopsApi, jp_root_dir: Path, mlops_home: Path, limit: int
) -> None:
    run_id, magic, _ = await _failed(api, jp_root_dir, mlops_home)
    route = f"runs/{run_id}/steps/crunch/log"

    text, answers = await _read(api, route, executor_lines="hide", limit=limit)

    assert text == as_the_sidebar_says(magic)
    # Some read stopped inside the traceback, the next went on from there (not vacuously equal).
    assert any(a["filter_state"] == "traceback" for a in answers), [a["filter_state"] for a in answers]


@pytest.mark.parametrize("limit", [None, 61])
async def test_executor_lines_shown_give_every_line(
    api: MlopsApi, jp_root_dir: Path, mlops_home: Path, limit: int | None
) -> None:
    run_id, _, raw = await _failed(api, jp_root_dir, mlops_home)

    text, answers = await _read(api, f"runs/{run_id}/steps/crunch/log", **({"limit": limit} if limit else {}))

    assert text == raw
    assert all("filter_state" not in a for a in answers)
    if limit:
        assert all(len(a["text"].encode()) <= limit for a in answers)


async def test_a_bad_filter_state_or_limit_is_a_400(
    api: MlopsApi, jp_root_dir: Path, mlops_home: Path
) -> None:
    run_id, _, _ = await _failed(api, jp_root_dir, mlops_home)
    route = f"runs/{run_id}/steps/crunch/log"
    for params in (
        {"executor_lines": "hide", "filter_state": "traceback:12"},
        {"executor_lines": "hide", "filter_state": "TRACEBACK"},
        {"executor_lines": "hide", "limit": 0},
        {"limit": "a lot"},
    ):
        code, refused = await api.call("GET", route, **params)
        assert code == 400, (params, code, refused)
        assert ("filter_state" in refused["message"] and "read from offset 0" in refused["message"]) or (
            "'limit'" in refused["message"]
        ), refused
    for state in ("", "line", "json", "traceback"):  # every state an answer gives is accepted
        code, _ = await api.call("GET", route, executor_lines="hide", filter_state=state)
        assert code == 200, state


PADDED = [
    "%load_ext jupyter_mlops",
    "%%component crunch\n"
    "import os, sys\n"
    "sys.stdout.flush()\n"
    "left = (1 << 20) - 100 - os.fstat(1).st_size  # the log's first read (1 MiB) ends in the traceback\n"
    "while left > 0:\n"
    "    line = '.' * min(left - 1, 99)\n"
    "    print(line, flush=True)\n"
    "    left -= len(line) + 1\n"
    "ratio = 1 / 0",
]


async def test_a_traceback_across_the_routes_own_reads_is_trimmed(
    api: MlopsApi, jp_root_dir: Path, mlops_home: Path
) -> None:
    """Without `limit`: the step wrote 1 MiB less 100 bytes before its traceback, so the route's first
    read of the whole log ends inside the traceback's frames, as the sidebar reads a long log."""
    run_id, magic, _ = await _failed(api, jp_root_dir, mlops_home, "padded.ipynb", PADDED)
    assert "frames of the step runner left out" in magic and "worker.py" not in magic

    text, answers = await _read(api, f"runs/{run_id}/steps/crunch/log", executor_lines="hide")

    assert text == as_the_sidebar_says(magic)
    assert [a["filter_state"] for a in answers] == ["traceback", ""], [a["next_offset"] for a in answers]

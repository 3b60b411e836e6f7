"""A notebook the contents API would hide is not run (issue 12, item 8; ContentsManager.allow_hidden)."""

from __future__ import annotations

from pathlib import Path

from .conftest import TWO_STEPS, MlopsApi, write_notebook


async def test_a_hidden_notebook_is_not_run(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / ".secret" / "sums.ipynb", TWO_STEPS)
    write_notebook(jp_root_dir / ".sums.ipynb", TWO_STEPS)
    for path in (".secret/sums.ipynb", ".sums.ipynb"):
        code, answer = await api.call("POST", "runs", {"notebook": path})
        assert code == 404 and "hidden" in answer["message"], answer

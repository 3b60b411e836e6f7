"""A step's key looks for the notebook's own modules in its working folder (executor/cache.py) without
a file-system call per module it imports and per step (issue 15: a fully cached 20-step re-run made 80
stat calls for `kfp` and `typing`): the folder is listed when it changed, and a module added, edited or
removed is still found at once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.executor import cache

SOURCE = "import kfp\nfrom kfp import dsl\nfrom typing import *\nimport helpers\n"


def test_imports_not_in_the_folder_cost_no_lookup_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    old = os.stat(folder).st_mtime - 10
    os.utime(folder, (old, old))  # changed long enough ago: its listing can be trusted
    assert cache.local_modules_digest(SOURCE, str(folder)) is None
    looked: list[Any] = []
    for name in ("isfile", "isdir", "exists"):
        real = getattr(os.path, name)
        monkeypatch.setattr(os.path, name, lambda p, real=real: looked.append(p) or real(p))
    for _ in range(20):  # the steps of a chain
        assert cache.local_modules_digest(SOURCE, str(folder)) is None
    assert looked == []


def test_a_module_added_edited_or_removed_changes_the_digest_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    assert cache.local_modules_digest(SOURCE, str(folder)) is None
    (folder / "helpers.py").write_text("x = 1\n")
    first = cache.local_modules_digest(SOURCE, str(folder))
    assert first is not None
    (folder / "helpers.py").write_text("x = 22\n")
    second = cache.local_modules_digest(SOURCE, str(folder))
    assert second not in (None, first)
    (folder / "helpers.py").unlink()
    assert cache.local_modules_digest(SOURCE, str(folder)) is None
    (folder / "helpers").mkdir()  # a package instead
    (folder / "helpers" / "__init__.py").write_text("y = 1\n")
    assert cache.local_modules_digest(SOURCE, str(folder)) not in (None, first, second)

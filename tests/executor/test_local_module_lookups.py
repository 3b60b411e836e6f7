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


def _aged(*folders: Path) -> None:
    for folder in folders:  # changed long enough ago: their listings can be trusted
        old = os.stat(folder).st_mtime - 10
        os.utime(folder, (old, old))


def test_a_package_is_not_walked_again_per_step_and_its_edits_still_show_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from a folder holding a package the steps import (the repository's root holds jupyter_mlops/,
    which every notebook step imports), each key walked the whole package (~1.6 ms a step): its folders
    are now listed again only when they changed; every file is still looked at, so an edit shows."""
    folder = tmp_path / "notebooks"
    (folder / "src" / "deep").mkdir(parents=True)
    (folder / "src" / "__init__.py").write_text("")
    (folder / "src" / "features.py").write_text("A = 1\n")
    (folder / "src" / "deep" / "more.py").write_text("B = 1\n")
    _aged(folder, folder / "src", folder / "src" / "deep")
    source = "from src.features import A\nimport kfp\n"
    first = cache.local_modules_digest(source, str(folder))
    listed: list[Any] = []
    for name in ("scandir", "listdir"):
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda p=".", real=real: listed.append(p) or real(p))
    for _ in range(20):  # the steps of a chain
        assert cache.local_modules_digest(source, str(folder)) == first
    assert listed == []

    (folder / "src" / "deep" / "more.py").write_text("B = 22\n")  # edited in place: no folder changed
    edited = cache.local_modules_digest(source, str(folder))
    assert edited not in (None, first)
    (folder / "src" / "deep" / "new.py").write_text("C = 1\n")  # a file added deep down
    added = cache.local_modules_digest(source, str(folder))
    assert added not in (None, first, edited)
    (folder / "src" / "deep" / "new.py").unlink()
    assert cache.local_modules_digest(source, str(folder)) == edited


def test_a_packages_files_are_those_the_notebook_ships(tmp_path: Path) -> None:
    """The key's list of a package's files is ir.shipped_files.local_module_files's, in its order: caches,
    hidden folders and links to folders left out."""
    from jupyter_mlops.executor.local_modules import package_files
    from jupyter_mlops.ir.shipped_files import local_module_files

    package = tmp_path / "pkg"
    for sub in ("b", "a", "a/z", "__pycache__", ".hidden"):
        (package / sub).mkdir(parents=True)
        (package / sub / "m.py").write_text("")
    for name in ("__init__.py", "x.py", "notes.txt", "c.py"):
        (package / name).write_text("")
    (package / "linked").symlink_to(package / "a", target_is_directory=True)
    assert package_files(str(tmp_path), "pkg") == local_module_files(str(tmp_path), "pkg")
    assert package_files(str(tmp_path), "pkg")[:3] == ["pkg/__init__.py", "pkg/c.py", "pkg/x.py"]
    assert "pkg/linked/m.py" not in package_files(str(tmp_path), "pkg")


def test_the_running_jupyter_mlops_in_the_folder_is_keyed_by_its_runtime_as_when_installed(
    tmp_path: Path,
) -> None:
    """Run from the repository's root, every notebook step imports the `jupyter_mlops/` found there: the
    package the runner itself runs. Its keys take it as they take an installed one (the step runtime's
    digest, `runtime`), not as the notebook's own module: looking at its 200 files cost each step
    ~0.5 ms. Another folder of that name (not the running package) is still the notebook's own."""
    running = Path(cache.__file__).resolve().parents[1]
    source = "from jupyter_mlops.step_runtime.run import _mlops_run_step\nimport helpers\n"
    here = tmp_path / "repo"
    here.mkdir()
    (here / "jupyter_mlops").symlink_to(running, target_is_directory=True)
    assert cache.local_modules_digest(source, str(here)) is None
    (here / "helpers.py").write_text("x = 1\n")
    assert cache.local_modules_digest(source, str(here)) is not None  # the notebook's own: keyed

    other = tmp_path / "fork"
    (other / "jupyter_mlops").mkdir(parents=True)
    (other / "jupyter_mlops" / "__init__.py").write_text("")
    first = cache.local_modules_digest(source, str(other))
    assert first is not None
    (other / "jupyter_mlops" / "__init__.py").write_text("changed = True\n")
    assert cache.local_modules_digest(source, str(other)) not in (None, first)

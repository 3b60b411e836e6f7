"""The notebook's own modules (`helpers.py`, a package `src/` beside it) import in steps as in its kernel:
the step's working directory comes first on sys.path, as `python -m` puts it there, also in steps
forked by the runner service (where they failed with ModuleNotFoundError) and from a zygote that has an
installed module of the same name loaded. Editing such a module is a cache miss for the steps that
import it, as editing the cell is."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from cli_runs import cli


def _notebook(folder: Path, cells: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in ["%load_ext jupyter_mlops", *cells]]
    path = folder / "local.ipynb"
    nbformat.write(notebook, path)
    return path


def _cli(home: Path, *args: str, runner: str = "service") -> str:
    return cli(home, *args, cwd=home.parent, runner=runner)  # not the notebook's folder: the step's must be


def _last_run(home: Path) -> str:
    return _cli(home, "runs", "--limit", "1").splitlines()[1].split()[0]


@pytest.mark.parametrize("runner", ["service", "process"])
def test_a_notebooks_own_modules_import_in_its_steps_and_editing_them_is_a_cache_miss(
    tmp_path: Path, runner: str
) -> None:
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "__init__.py").write_text("")
    (folder / "src" / "features.py").write_text("def build(xs):\n    return [x * 10 for x in xs]\n")
    (folder / "helpers.py").write_text("def total(xs):\n    return sum(xs)\n")
    path = _notebook(
        folder,
        [
            "%%pipeline setup\nfrom src.features import build",  # every step imports src
            "%%component a\nxs = build([1, 2, 3])",
            "%%component b\nimport helpers\nt = helpers.total(xs)\nprint('total', t)",  # b alone
        ],
    )
    home = tmp_path / "home"

    first = _cli(home, "run", str(path), "--wait", runner=runner)
    assert "SUCCEEDED, 2/2" in first, first
    assert "total 60" in _cli(home, "logs", _last_run(home), "b")

    again = _cli(home, "run", str(path), "--wait", runner=runner)
    assert "↺ a" in again and "↺ b" in again, again  # nothing changed: both cached

    (folder / "helpers.py").write_text("def total(xs):\n    return sum(xs) + 1\n")
    edited = _cli(home, "run", str(path), "--wait", runner=runner)
    assert "SUCCEEDED, 2/2" in edited and "↺ a" in edited and "✓ b" in edited, edited  # only b re-ran
    assert "total 61" in _cli(home, "logs", _last_run(home), "b")

    (folder / "src" / "features.py").write_text("def build(xs):\n    return [x * 100 for x in xs]\n")
    rebuilt = _cli(home, "run", str(path), "--wait", runner=runner)
    assert "✓ a" in rebuilt and "✓ b" in rebuilt, rebuilt
    assert "total 601" in _cli(home, "logs", _last_run(home), "b")


def test_a_local_file_shadows_an_installed_module_a_zygote_preloaded(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    path = _notebook(folder, ["%%component a --no-cache\nimport markdown\nprint('from', markdown.__file__)"])
    home = tmp_path / "home"
    for _ in range(3):  # the runs after the first are forked from a zygote with markdown loaded
        _cli(home, "run", str(path), "--wait")
    assert "site-packages" in _cli(home, "logs", _last_run(home), "a")

    (folder / "markdown.py").write_text("WHO = 'the notebook'\n")  # the notebook's own markdown.py
    for _ in range(2):
        _cli(home, "run", str(path), "--wait")
        assert f"from {folder / 'markdown.py'}" in _cli(home, "logs", _last_run(home), "a")

"""Notebooks written the way real public notebooks are, run three ways (issue 9, first Must-show line).

1. the plain notebook, top to bottom in a kernel: the reference;
2. the converted notebook with `jupyter-mlops run NOTEBOOK --wait`, from another folder;
3. the converted notebook in a kernel (the magics run there), ending with `run = %pipeline run --wait`.

The pipeline's key values (what the notebook's last cell prints) must be the reference's, and the files the
notebook writes next to itself (relative paths) must be where the plain notebook puts them.
See notebooks/README.md for the pattern each notebook exercises and how it was converted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from .conversions import BY_NAME, CONVERSIONS, convert, read_plain
from .harness import (
    REPO,
    Reference,
    cli,
    differences,
    error_outputs,
    execute,
    kernel_run_cells,
    kernel_run_facts,
    notebook_folder,
    report_in,
    run_id_in,
    shown,
    shows_the_same,
)

NAMES = [c.name for c in CONVERSIONS]


def write_converted(name: str, tmp_path: Path) -> tuple[Path, nbformat.NotebookNode]:
    """The user's converted notebook, saved in place of the plain one (its data/ beside it)."""
    conversion = BY_NAME[name]
    folder = notebook_folder(tmp_path)
    nb = convert(conversion, read_plain(conversion))
    path = folder / conversion.notebook
    nbformat.write(nb, str(path))
    return path, nb


def test_the_plain_notebooks_know_nothing_of_jupyter_mlops() -> None:
    """The references are notebooks as their authors left them: the conversion adds every magic."""
    for conversion in CONVERSIONS:
        for cell in read_plain(conversion).cells:
            if cell.cell_type == "code":
                assert "jupyter_mlops" not in cell.source, (conversion.notebook, cell.id)
                assert not re.search(r"^\s*%+(component|pipeline)\b", cell.source, re.M), (
                    conversion.notebook,
                    cell.id,
                )


@pytest.mark.parametrize("name", NAMES)
def test_plain_notebook_runs_top_to_bottom(name: str, reference: Callable[[str], Reference]) -> None:
    values = reference(name).values
    assert len(values) >= 4, values


@pytest.mark.parametrize("name", NAMES)
def test_converted_notebook_run_by_the_cli_matches_the_reference(
    name: str, reference: Callable[[str], Reference], home: Path, tmp_path: Path
) -> None:
    expected = reference(name).values
    conversion = BY_NAME[name]
    path, _ = write_converted(name, tmp_path)
    elsewhere = tmp_path / "elsewhere"  # the user's shell is not in the notebook's folder
    elsewhere.mkdir()

    done = cli("run", str(path), "--wait", cwd=elsewhere)
    said = done.stdout + done.stderr
    assert done.returncode == 0, f"jupyter-mlops run {conversion.notebook} --wait:\n{said}"
    run_id = run_id_in(done.stdout)
    assert run_id, said

    log = cli("logs", run_id, conversion.report_step, cwd=elsewhere)
    assert log.returncode == 0, log.stdout + log.stderr
    got = report_in(log.stdout)
    assert got is not None, f"step {conversion.report_step!r} printed no key values:\n{log.stdout[-3000:]}"
    assert differences(expected, got) == [], f"pipeline values differ from the plain notebook:\n{said}"
    for written in conversion.writes:
        assert (path.parent / written).is_file(), f"{written} is not in the notebook's folder"
        assert not (elsewhere / written).exists(), f"{written} was written in the shell's folder"


@pytest.mark.parametrize("name", NAMES)
def test_converted_notebook_in_a_kernel_matches_the_reference(
    name: str, reference: Callable[[str], Reference], home: Path, tmp_path: Path
) -> None:
    plain = reference(name)
    expected = plain.values
    conversion = BY_NAME[name]
    path, nb = write_converted(name, tmp_path)
    nb.cells.extend(kernel_run_cells(conversion))

    execute(nb, path.parent)

    # A cell that failed in the kernel fails the notebook (nbclient raised above); one that only
    # showed an error and carried on is a failure too.
    assert error_outputs(nb) == []
    # Each converted cell shows what the plain cell showed: its prints, its value (none after a `;`).
    differing = {
        cell.id: (plain.shown[cell.id], shown(cell))
        for cell in nb.cells
        if cell.get("id") in plain.shown and not shows_the_same(plain.shown[cell.id], shown(cell))
    }
    assert differing == {}, "cells show other output than in the plain notebook (plain, converted)"

    facts = kernel_run_facts(nb)
    assert Path(facts["package"]).resolve().is_relative_to(REPO), facts["package"]
    assert facts["state"] == "SUCCEEDED", facts
    got = report_in(facts["log"])
    assert got is not None, f"step {conversion.report_step!r} printed no key values:\n{facts['log'][-3000:]}"
    assert differences(expected, got) == [], "pipeline values differ from the plain notebook"
    for written in conversion.writes:
        assert (path.parent / written).is_file(), f"the pipeline wrote no {written} in the notebook's folder"

"""The analysis takes any Python: real modules (this package, parts of the standard library) as
cells end in an analysis or a CellError, never a crash."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import pathlib
import typing
from pathlib import Path

import pytest

import jupyter_mlops
from jupyter_mlops.analysis.cell import analyze_cell
from jupyter_mlops.errors import CellError

FILES = sorted(Path(jupyter_mlops.__file__).parent.rglob("*.py")) + [
    Path(m.__file__ or "") for m in (argparse, ast, dataclasses, json.decoder, pathlib, typing)
]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_modules_analyse_without_crashing(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    try:
        analysis = analyze_cell(source, cell=path.name)
    except CellError:
        return  # e.g. `from x import *`: refused with a message
    assert set(analysis.may_change) <= analysis.mutates

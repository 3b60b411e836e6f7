"""`from MODULE import *`: the names it binds, so that a cell using it can be analysed.

The names a star import binds are the module's `__all__`, or else its public names (those not starting
with `_`), as Python itself decides. They are found by importing the module here, in the process that
analyses the cell: in a kernel the setup cell has already imported it (a dictionary lookup); from the
command line it is one import of a module the steps import anyway. Common in notebooks:
`from fastai.vision.all import *`, `from pylab import *`, `from sklearn.metrics import *`.
A module of the notebook's own folder (`from helpers import *` beside the notebook) is found there when
the command line analyses a notebook from another folder (`notebook_folder`), as its kernel finds it in
its working directory.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from functools import lru_cache

from ..errors import CellError
from .cell_python import PythonSource
from .tree_nodes import changed, walk

_FOLDER: ContextVar[str | None] = ContextVar("jupyter_mlops_notebook_folder", default=None)


@contextlib.contextmanager
def notebook_folder(folder: str | None) -> Iterator[None]:
    """While analysing the cells of the notebook in `folder`: its own modules are importable."""
    token = _FOLDER.set(folder)
    try:
        yield
    finally:
        _FOLDER.reset(token)


def star_names(module: str) -> tuple[str, ...] | str:
    """The names `from module import *` binds, or why they cannot be known (the import's error; not
    kept, so a module installed since is found at the next compile)."""
    try:
        try:
            return _names_of(module)
        except ModuleNotFoundError as missing:
            folder = _FOLDER.get()
            top = module.split(".")[0]
            if folder is None or missing.name != top or not _in_folder(folder, top):
                raise
            sys.path.insert(0, folder)  # as the kernel's working directory is, for this import only
            try:
                return _names_of(module)
            finally:
                with contextlib.suppress(ValueError):
                    sys.path.remove(folder)
    except BaseException as exc:  # any failure of a user's module (SystemExit too): told, not raised
        if isinstance(exc, KeyboardInterrupt):
            raise
        return f"importing {module} failed here ({type(exc).__name__}: {exc})"


def _in_folder(folder: str, top: str) -> bool:
    return os.path.isfile(os.path.join(folder, top + ".py")) or os.path.isdir(os.path.join(folder, top))


@lru_cache(maxsize=64)
def _names_of(module: str) -> tuple[str, ...]:
    imported = importlib.import_module(module)
    listed = getattr(imported, "__all__", None)
    if listed is not None:
        return tuple(str(name) for name in listed)
    return tuple(name for name in vars(imported) if not name.startswith("_"))


def expand_star_imports(tree: ast.Module, python: PythonSource, cell: str) -> None:
    """Give each `from M import *` of the cell's tree the names it binds (in place, before any pass
    reads the tree); a star import whose names cannot be known is a CellError saying why."""
    for node in walk(tree):  # (a change below drops the list: the nodes ast.walk would visit, still)
        if not (isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)):
            continue
        module = "." * node.level + (node.module or "")
        names = star_names(module) if not node.level else "a relative import names no installed module"
        if isinstance(names, str):
            raise CellError(
                f"`from {module} import *`: the names it brings cannot be known ({names}), so the "
                f"step's inputs cannot be found. List the names you need: from {module} import a, b",
                cell=cell,
                line=python.user_line(node.lineno),
            )
        node.names = [ast.alias(name=name, lineno=node.lineno, col_offset=node.col_offset) for name in names]
        changed(tree)  # its nodes, if listed already, are listed again (tree_nodes)

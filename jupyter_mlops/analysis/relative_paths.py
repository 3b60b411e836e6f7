"""Find the relative file paths a step reads, for a compile-time note (`%pipeline show`, `describe()`).

On the local backend a step works in the notebook's folder, so `pd.read_csv('data/train.csv')` reads
what the kernel reads. In a container on Kubeflow that file does not exist: the note says so, naming
the cell's line and the path, before anyone finds out from a FileNotFoundError on a cluster.

What counts: a string literal (or an f-string that starts with one, or `os.path.join`/`Path` of one)
given as the file of a call that reads files: `open`, pandas' `read_*`, numpy's `load`/`loadtxt`/
`genfromtxt`/`fromfile`, `Path(...)`, `glob`, `os.listdir`, image readers, `joblib.load`, `torch.load`
and the like. Paths that are absolute, `~`-relative or URLs are left alone, and so is `open` for
writing. For names that many libraries use for other things (`load`, `imread`...), only literals that
look like a path (a `/` in it, or a file extension) count: `spacy.load('en_core_web_sm')` is a model
name, not a file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from ..errors import CellError
from .tree_nodes import walk

# Calls whose first argument is a file to read; any relative literal there is a path.
_READERS = frozenset(
    {
        "open",
        "read_csv",
        "read_table",
        "read_fwf",
        "read_json",
        "read_excel",
        "read_parquet",
        "read_feather",
        "read_pickle",
        "read_hdf",
        "read_orc",
        "read_stata",
        "read_sas",
        "read_spss",
        "read_xml",
        "loadtxt",
        "genfromtxt",
        "fromfile",
        "load_npz",
        "loadmat",
        "load_workbook",
        "listdir",
        "scandir",
        "walk",
        "glob",
        "iglob",
        "Path",
        "PurePath",
        "PosixPath",
        "WindowsPath",
        "ZipFile",
        "File",  # h5py.File
        "read_file",
    }
)
# Names other libraries also use for things that are not files: only path-looking literals count.
_MAYBE_READERS = frozenset({"load", "imread", "load_model", "load_from_disk", "from_pretrained", "read"})
_FILE_KEYWORDS = frozenset(
    {"path", "filepath_or_buffer", "filename", "fname", "file", "path_or_buf", "io", "filepath", "pathname"}
)
_WRITE_MODE = re.compile(r"[wax]")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,9}$")
_JOINERS = frozenset({"join", "Path", "PurePath", "PosixPath"})


def relative_path_notes(cell_source: str, *, first_line: int = 1) -> list[tuple[int, str]]:
    """(user line, message) for each relative path the cell reads, in line order.

    `cell_source` is the cell as written (IPython syntax allowed); `first_line` is the user's number of
    its first line (2 for a `%%component` body). A cell that does not parse has no notes here (the
    compile error says why)."""
    from .cell_python import to_python

    try:
        python = to_python(cell_source, cell="", first_line=first_line)
        tree = ast.parse(python.text)
    except (CellError, SyntaxError, ValueError):
        return []
    return relative_paths_in(tree, lambda line: python.user_line(line) or first_line)


def relative_paths_in(tree: ast.Module, user_line: Callable[[int], int]) -> list[tuple[int, str]]:
    """`relative_path_notes` of a cell already parsed (the planner passes the analysis's tree)."""
    found: dict[tuple[int, str], str] = {}
    for node in walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node.func)
        if name not in _READERS and name not in _MAYBE_READERS:
            continue
        if name in ("open", "File", "ZipFile") and _opens_for_writing(node):
            continue
        path = _literal_path(_file_argument(node))
        if path is None or not _is_relative(path):
            continue
        if name in _MAYBE_READERS and not _looks_like_a_path(path):
            continue
        found.setdefault((user_line(node.lineno), path), name)
    return [(line, _message(path, name)) for (line, path), name in sorted(found.items())]


def _message(path: str, call: str) -> str:
    return (
        f"{call}({path!r}) uses a relative path: the local backend finds it in the notebook's folder "
        "(the steps' working directory), but a container on Kubeflow will not have it. Put the file "
        "in the step's image, or pass its location as a pipeline parameter"
    )


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _file_argument(call: ast.Call) -> ast.expr | None:
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    for keyword in call.keywords:
        if keyword.arg in _FILE_KEYWORDS:
            return keyword.value
    return None


def _opens_for_writing(call: ast.Call) -> bool:
    mode: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if not (isinstance(mode, ast.Constant) and isinstance(mode.value, str)):
        return False
    return bool(_WRITE_MODE.search(mode.value))


def _literal_path(node: ast.expr | None) -> str | None:
    """The path a literal-ish expression spells (placeholders as {…}), None if it does not start with
    a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            return None
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "{…}" for v in node.values)
    if isinstance(node, ast.Call) and _called_name(node.func) in _JOINERS and node.args:
        parts = [_literal_path(a) for a in node.args]
        if parts[0] is None:
            return None
        return "/".join(p if p is not None else "{…}" for p in parts)
    return None


def _is_relative(path: str) -> bool:
    text = path.strip()
    if text in ("", ".", "..") or _URL.match(text) or text.startswith(("/", "\\", "~", "{…}")):
        return False
    return not re.match(r"^[A-Za-z]:[\\/]", text)  # C:\data


def _looks_like_a_path(path: str) -> bool:
    return "/" in path or "\\" in path or bool(_EXTENSION.search(path))

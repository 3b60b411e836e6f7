"""The notebook's own modules in a step's cache key: which of the modules a step imports are files of its
working folder (`helpers.py`, a package `src/`), and the sha256 of their contents.

Every uncached step computes its key, so this runs once a step. An edit must show at once (an edited
`helpers.py` is a miss for the next step that imports it, as an edited cell is), so each of the module's
files is looked at (one `stat`) every time; a file's content is read again only when its size or mtime
changed. Listing the folders is what is saved: a folder's names are listed again only when the folder
changed (adding, removing or renaming a file in it changes its mtime) or changed too recently for its
mtime to be trusted (RACY_S). A step run from a folder holding a large package (the repository's root,
whose `jupyter_mlops/` every notebook step imports) paid ~1.6 ms of CPU a step walking it with
`os.walk` and `os.path.relpath` before (issue 15). That package, when it is the one this process
runs, is keyed as an installed jupyter_mlops is: by the step runtime's digest.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import time

RACY_S = 2.0  # a folder changed this recently is listed again: its mtime may not have ticked yet
_MEMO = 512  # steps' sources whose imported names are kept (the steps of the last few pipelines)
_ENCODER = json.JSONEncoder(sort_keys=True, default=repr)

# folder -> ((inode, mtime_ns), its names); a package's folder -> (signature, sub-folders, .py files)
_listed: dict[str, tuple[tuple[int, int], frozenset[str]]] = {}
_package_dirs: dict[str, tuple[tuple[int, int], tuple[str, ...], tuple[str, ...]]] = {}


def local_modules_digest(source: str, working_dir: str) -> str | None:
    """The sha256 of the notebook's own modules that a step imports from its working directory
    (`helpers.py`, a package `src/`): editing one is a cache miss for the steps importing it, as
    editing the cell is. None when the step imports none."""
    found: list[tuple[str, str]] = []
    entries = _folder_entries(working_dir)
    prefix = working_dir + os.sep
    for name in imported_names(source):
        if name + ".py" in entries:
            relatives = [name + ".py"] if os.path.isfile(prefix + name + ".py") else []
            if not relatives and name in entries:
                relatives = package_files(working_dir, name)
        elif name in entries:
            relatives = package_files(working_dir, name)
        else:
            continue  # `kfp`, `typing`, `numpy`: not in the folder (no stat per import and step)
        if name == _RUNNING and _is_running_package(prefix + name):
            continue  # the tool itself (a notebook run from its repository): keyed by its runtime
        found.extend((relative, _file_digest(prefix + relative)) for relative in relatives)
    if not found:
        return None
    return _digest(tuple(found))


_RUNNING = __name__.split(".")[0]  # jupyter_mlops
_RUNNING_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _is_running_package(path: str) -> bool:
    """Whether `path` is the folder of the jupyter_mlops this process runs. Steps import it as they
    import an installed jupyter_mlops, and the cache keys it the same way: by the step runtime's
    digest (`cache.step_runtime_digest`, the `runtime` of a key), not file by file as the notebook's
    own modules (~200 stats a step, run from the repository's root)."""
    try:
        return os.path.samefile(path, _RUNNING_FOLDER)
    except OSError:
        return False


@functools.lru_cache(maxsize=64)
def _digest(found: tuple[tuple[str, str], ...]) -> str:
    return hashlib.sha256(_ENCODER.encode([list(pair) for pair in found]).encode()).hexdigest()


def package_files(folder: str, name: str) -> list[str]:
    """Every `.py` of the package folder `name/` in `folder`, relative to `folder`, in the order of
    `ir.shipped_files.local_module_files` (a folder's files sorted, then its sub-folders sorted, caches
    and hidden folders left out, symbolic links to folders not followed)."""
    files: list[str] = []
    _walk(os.path.join(folder, name), name, files)
    return files


def _walk(path: str, relative: str, files: list[str]) -> None:
    listed = _package_listing(path)
    if listed is None:
        return
    subfolders, names = listed
    files.extend(relative + "/" + n for n in names)
    for sub in subfolders:
        _walk(path + "/" + sub, relative + "/" + sub, files)


def _package_listing(path: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(sub-folders to descend into, `.py` files), both sorted; listed again only when the folder
    changed. None if it is not a folder."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    signature = (stat.st_ino, stat.st_mtime_ns)
    known = _package_dirs.get(path)
    if known is not None and known[0] == signature and time.time() - stat.st_mtime > RACY_S:
        return known[1], known[2]
    subfolders: list[str] = []
    names: list[str] = []
    try:
        with os.scandir(path) as scan:
            for entry in scan:
                if entry.is_dir():
                    hidden = entry.name == "__pycache__" or entry.name.startswith(".")
                    if not hidden and not entry.is_symlink():
                        subfolders.append(entry.name)
                elif entry.name.endswith(".py"):
                    names.append(entry.name)
    except OSError:
        return None
    if len(_package_dirs) > 4096:
        _package_dirs.clear()
    listing = (tuple(sorted(subfolders)), tuple(sorted(names)))
    _package_dirs[path] = (signature, *listing)
    return listing


def _folder_entries(folder: str) -> frozenset[str]:
    """The names in `folder`, listed again only when the folder changed (a file added, removed or
    renamed in it changes its mtime): one stat a step instead of two per module a step imports."""
    try:
        stat = os.stat(folder)
    except OSError:
        return frozenset()
    signature = (stat.st_ino, stat.st_mtime_ns)
    known = _listed.get(folder)
    if known is not None and known[0] == signature and time.time() - stat.st_mtime > RACY_S:
        return known[1]
    try:
        names = frozenset(os.listdir(folder))
    except OSError:
        return frozenset()
    if len(_listed) > 256:
        _listed.clear()
    _listed[folder] = (signature, names)
    return names


# `import a.b as c, d` / `from a.b import c`, in the step's code or in the setup code it carries as a
# string literal (there a line starts after a `\n` escape).
_NAME = r"[\w.]+(?:[ \t]+as[ \t]+\w+)?"
_IMPORT = re.compile(rf"(?:\\n|\b)(?:import|from)[ \t]+({_NAME}(?:[ \t]*,[ \t]*{_NAME})*)")


@functools.lru_cache(maxsize=_MEMO)
def imported_names(source: str) -> tuple[str, ...]:
    """Top-level names of the modules the step's source imports, setup code included (candidates: only
    those found in the working directory count)."""
    names = set()
    for match in _IMPORT.finditer(source):
        for part in match.group(1).split(","):
            top = part.strip().split()[0].split(".")[0] if part.strip() else ""
            if top.isidentifier():
                names.add(top)
    return tuple(sorted(names))


def _file_digest(path: str) -> str:
    try:
        stat = os.stat(path)
    except OSError:
        return "gone"
    return _content_digest(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=1024)
def _content_digest(path: str, size: int, mtime_ns: int) -> str:  # read again only when it changed
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return "unreadable"

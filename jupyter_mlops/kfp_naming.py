"""kfp's task naming without its cubic cost: the same names, found in linear time.

kfp (2.x) names each new task of a pipeline, as `@dsl.pipeline` builds it, by trying `name`, `name-2`,
`name-3`, ... against a list of the names taken so far (`dsl.utils.make_name_unique_by_adding_index`),
and its compiler sanitizes every task's name again for every task of a DAG
(`dsl.utils.maybe_rename_for_k8s`, two regular expressions each time). For a pipeline of many tasks of
one component (a chain or a fan of the same step, which is what notebooks and generated pipelines
make), the first grows with the cube of the task count and the second with its square: 2.7 s of a
1,000-task pipeline's 2.8 s build here.

This module puts in their place two functions that return exactly what kfp's would (the same first
free index; the same sanitized text), the first with a set of the names taken, the second remembering
the names it has sanitized. Nothing else of kfp changes, and the IR kfp writes is the same byte for
byte (tests/compiler/test_kfp_naming.py compiles the same pipelines with and without them).

It applies to kfp in any process that imports `jupyter_mlops` (a kernel with `%load_ext
jupyter_mlops`, a script using `mlops.run`, our CLI, the runner), whether kfp was imported before or
after: `install()` replaces the two functions at once if `kfp.dsl.utils` is loaded, or when it is.
Set `JUPYTER_MLOPS_KFP_NAMING=kfp` to leave kfp's own functions in place.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (not imported at run time: `import jupyter_mlops` stays cheap)
    from collections.abc import Callable, Collection
    from types import ModuleType

MODULE = "kfp.dsl.utils"
SWITCH_ENV = "JUPYTER_MLOPS_KFP_NAMING"  # "kfp": kfp's own functions stay
_CACHE_LIMIT = 1 << 16  # sanitized names remembered (a few MB at most); forgotten all at once past it

_originals: dict[str, Callable[..., Any]] = {}


def _fast_rename(original: Callable[[str], str]) -> Callable[[str], str]:
    known: dict[str, str] = {}

    def maybe_rename_for_k8s(name: str) -> str:
        if type(name) is not str:  # what kfp does with anything else (its error included)
            return original(name)
        found = known.get(name)
        if found is None:
            if len(known) >= _CACHE_LIMIT:
                known.clear()
            found = known[name] = original(name)
        return found

    maybe_rename_for_k8s.__doc__ = original.__doc__
    maybe_rename_for_k8s.__wrapped__ = original  # type: ignore[attr-defined]
    return maybe_rename_for_k8s


def _fast_unique(original: Callable[[str, Any, str], str]) -> Callable[[str, Any, str], str]:
    def make_name_unique_by_adding_index(name: str, collection: Collection[str], delimiter: str) -> str:
        if name not in collection:
            return name
        try:
            taken = set(collection)
        except TypeError:  # names that cannot be hashed: kfp's own search
            return original(name, collection, delimiter)
        index = 2
        while True:
            candidate = f"{name}{delimiter}{index}"
            if candidate not in taken:
                return candidate
            index += 1

    make_name_unique_by_adding_index.__doc__ = original.__doc__
    make_name_unique_by_adding_index.__wrapped__ = original  # type: ignore[attr-defined]
    return make_name_unique_by_adding_index


_REPLACEMENTS: dict[str, Callable[[Any], Callable[..., Any]]] = {
    "maybe_rename_for_k8s": _fast_rename,
    "make_name_unique_by_adding_index": _fast_unique,
}


def _patch(utils: ModuleType) -> None:
    for name, make in _REPLACEMENTS.items():
        current = getattr(utils, name, None)
        if current is None or name in _originals:  # another kfp without it, or already in place
            continue
        _originals[name] = current
        setattr(utils, name, make(current))


def installed() -> bool:
    return bool(_originals)


def uninstall() -> None:
    """kfp's own functions back (tests; and for whoever wants to compare)."""
    utils = sys.modules.get(MODULE)
    if utils is not None:
        for name, original in _originals.items():
            setattr(utils, name, original)
    _originals.clear()
    for finder in [f for f in sys.meta_path if isinstance(f, _PatchOnImport)]:
        sys.meta_path.remove(finder)


class _PatchingLoader:  # an importlib Loader
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _patch(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_code, ... as the real loader has them
        return getattr(self.loader, name)


class _PatchOnImport:  # an importlib MetaPathFinder
    """Finds nothing itself: when `kfp.dsl.utils` is imported, it wraps that module's real loader so
    that the module is patched as soon as it has run, then steps aside."""

    def find_spec(self, fullname: str, path: Any, target: ModuleType | None = None) -> Any:
        if fullname != MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _PatchingLoader(spec.loader)  # type: ignore[assignment]
        return spec


def install() -> None:
    """Replace kfp's two naming functions now, or when `kfp.dsl.utils` is first imported."""
    if os.environ.get(SWITCH_ENV, "").strip().lower() == "kfp" or installed():
        return
    utils = sys.modules.get(MODULE)
    if utils is not None:
        _patch(utils)
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


__all__ = ["SWITCH_ENV", "install", "installed", "uninstall"]

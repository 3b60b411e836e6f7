"""Backends by name: `get_backend("local")`, and whatever other packages register.

A backend is a class named in the `jupyter_mlops.backends` entry-point group (ours: `local`), so a
third-party package adds one by declaring it in its own metadata. Nothing is imported or opened until a
backend is asked for. `get_backend` makes a new object each call (a server, a CLI command);
`shared_backend` gives one object per process, home and options (a kernel: every magic and
`mlops.run` reuse one store connection instead of opening their own).
"""

from __future__ import annotations

import atexit
import importlib
import os
import threading
from importlib.metadata import entry_points
from typing import Any, cast

from ..errors import BackendError, UsageError
from ..home import HOME_ENV, mlops_home
from ..this_process import pid
from .base import Backend

GROUP = "jupyter_mlops.backends"

# Ours, also when the package runs from a source tree without installed metadata.
BUILTIN: dict[str, str] = {
    "local": "jupyter_mlops.backends.local:LocalBackend",
    "kfp": "jupyter_mlops.backends.kfp:KfpBackend",
}

# Names users will try that no installed package provides yet, and what to do about each.
NOT_INSTALLED: dict[str, str] = {}


def available() -> dict[str, str]:
    """Every backend that can be asked for: name -> "module:Class"."""
    found = dict(BUILTIN)
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep.value
    return found


def backend_class(name: str) -> type[Backend]:
    """The class registered under `name`, imported now; a clear error naming what to install if not."""
    table = available()
    target = table.get(name)
    if target is None:
        if name in NOT_INSTALLED:
            raise BackendError(NOT_INSTALLED[name])
        raise UsageError(f"unknown backend {name!r} (choose one of: {', '.join(sorted(table))})")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or "a module"
        raise BackendError(
            f"the {name!r} backend ({target}) cannot be loaded: module {missing!r} is not installed; "
            f"install it (`pip install {missing.split('.')[0]}`) or the package that provides the backend"
        ) from exc
    try:
        cls = getattr(module, attr)
    except AttributeError as exc:
        raise BackendError(f"the {name!r} backend names {target}, which does not exist") from exc
    return cast("type[Backend]", cls)


def get_backend(name: str, **options: Any) -> Backend:
    """A new backend `name` built with `options` (LocalBackend: home=, max_workers=, artifact_root=)."""
    return backend_class(name)(**options)


_shared: dict[tuple[Any, ...], Backend] = {}
_shared_lock = threading.Lock()


def shared_backend(name: str, **options: Any) -> Backend:
    """This process's backend `name` with `options`, made on first use and reused after (one store
    connection, one migration check). Keyed also by the home (JUPYTER_MLOPS_HOME may change) and the
    process id (a forked child must not share its parent's SQLite connection)."""
    home = os.environ.get(HOME_ENV) or str(mlops_home())
    key = (name, pid(), home, tuple(sorted((k, repr(v)) for k, v in options.items())) if options else ())
    with _shared_lock:
        backend = _shared.get(key)
        if backend is None:
            backend = _shared[key] = get_backend(name, **options)
        return backend


@atexit.register
def close_shared() -> None:
    """Close every shared backend of this process (at exit, and in tests between homes)."""
    with _shared_lock:
        mine = [k for k in _shared if k[1] == os.getpid()]
        backends = [_shared.pop(k) for k in mine]
    for backend in backends:
        backend.close()
    from .session_points import close_all

    close_all()


_default: tuple[str, dict[str, Any]] = ("local", {})


def set_default(name: str, **options: Any) -> Backend:
    """Make `name` this process's default backend (`%pipeline backend`); one that cannot be made is
    refused here and the old default stays."""
    global _default
    backend = shared_backend(name, **options)
    _default = (name, dict(options))
    return backend


def default_backend() -> Backend:
    """This process's default backend: what `mlops.run` and `log_metric` in a plain cell use."""
    name, options = _default
    return shared_backend(name, **options)

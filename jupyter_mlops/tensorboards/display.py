"""`mlops.tensorboard(...)` and `%pipeline tensorboard`: TensorBoard inline, wherever the notebook runs.

- A Jupyter server with our extension started this kernel: an iframe of `<base>mlops/tensorboard/<id>/`,
  which the server proxies (it starts TensorBoard on the first request, and again if it died).
- Colab: TensorBoard started here, shown through Colab's own kernel-port iframe.
- A Jupyter server with jupyter-server-proxy (and not ours): started here, shown at `<base>proxy/<port>/`.
- Elsewhere: a message saying what to enable or install, and how to open it from a terminal.
"""

from __future__ import annotations

import atexit
import html
import importlib
import importlib.util
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .process import LocalInstances
from .registry import Record, parent_server_base_url, register_logdir

if TYPE_CHECKING:
    from ..backends.base import Backend

IFRAME_HEIGHT = 800
_local = LocalInstances()
atexit.register(_local.stop_all)


@dataclass
class TensorBoardView:
    """What `mlops.tensorboard()` returns; displayed, it is TensorBoard inline (or why it cannot be)."""

    record: Record
    url: str | None  # where the browser finds it, when it can be shown
    how: str  # "proxy", "colab", "jupyter-server-proxy" or "unavailable"
    message: str = ""
    port: int | None = None

    @property
    def id(self) -> str:
        return self.record.id

    def _repr_html_(self) -> str:
        esc = html.escape
        if self.how == "colab":
            return f"<p>TensorBoard for {esc(self.record.title)} is shown through Colab above.</p>"
        if self.url is None:
            return f"<div class='jupyter-mlops-tensorboard'><p>{esc(self.message)}</p></div>"
        src = esc(self.url, quote=True)
        return (
            "<div class='jupyter-mlops-tensorboard'>"
            f"<iframe src='{src}' title='TensorBoard: {esc(self.record.title, quote=True)}' "
            f"style='width:100%;height:{IFRAME_HEIGHT}px;border:1px solid #ddd' loading='lazy'></iframe>"
            f"<div><a href='{src}' target='_blank' rel='noopener'>Open in TensorBoard</a> "
            f"<span style='color:#777'>{esc(self.record.title)}</span></div></div>"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"TensorBoard {self.id} for {self.record.title}: " + (self.url or self.message))


def _record(
    logdir: str | os.PathLike[str] | None, run: str | None, step: str | None, backend: Backend | None = None
) -> Record:
    from ..errors import UsageError

    if logdir is not None and run is not None:
        raise UsageError("tensorboard: give a logdir or a run (with an optional step), not both")
    if run is not None:
        from ..backends.registry import get_backend
        from .logdirs import run_record

        return run_record(backend or get_backend("local"), run, step)
    if step is not None:
        raise UsageError("tensorboard: step= needs run= (the run the step belongs to)")
    if logdir is None:
        from .files import current_logdir

        return register_logdir(current_logdir(), "this notebook session")
    folder = os.fspath(logdir)
    if not os.path.isdir(folder):
        raise UsageError(f"tensorboard: {folder!r} is not a folder; write logs there first (mlops.logdir())")
    return register_logdir(folder)


def tensorboard(
    logdir: str | os.PathLike[str] | None = None,
    *,
    run: str | None = None,
    step: str | None = None,
    dashboard: str | None = None,
    backend: Backend | None = None,
) -> TensorBoardView:
    """TensorBoard inline for `logdir` (default: this session's `mlops.logdir()`), or for the logs of
    a run (an id or unique id prefix) or of one of its steps. `dashboard` opens one of TensorBoard's
    dashboards ("projector", "scalars", "timeseries", ...). Returns a view; as a cell's last line it
    shows itself."""
    record = _record(logdir, run, step, backend)
    if dashboard is not None and not re.fullmatch(r"[a-z_-]+", dashboard):
        from ..errors import UsageError

        raise UsageError(
            f"tensorboard: dashboard must be a name like 'projector' or 'scalars', got {dashboard!r}"
        )
    anchor = f"#{dashboard}" if dashboard else ""
    base_url = parent_server_base_url()
    if base_url is not None:
        url = f"{base_url.rstrip('/')}/mlops/tensorboard/{record.id}/{anchor}"
        return TensorBoardView(record, url, "proxy")
    if importlib.util.find_spec("google.colab") is not None:
        instance, _ = _local.ensure(record)
        output = importlib.import_module("google.colab.output")
        output.serve_kernel_port_as_iframe(instance.port, height=IFRAME_HEIGHT)
        return TensorBoardView(record, None, "colab", port=instance.port)
    proxied = _server_proxy_base_url()
    if proxied is not None:
        instance, _ = _local.ensure(record)
        url = f"{proxied.rstrip('/')}/proxy/{instance.port}/{anchor}"
        return TensorBoardView(record, url, "jupyter-server-proxy", port=instance.port)
    message = (
        f"TensorBoard for {record.title} cannot be shown inline here: this kernel was not started by a "
        "Jupyter server running the jupyter-mlops server extension. Enable it with "
        "`jupyter server extension enable jupyter_mlops` and restart Jupyter (or install "
        "jupyter-server-proxy); or run `jupyter-mlops tensorboard "
        f"{record.logdir}` in a terminal."
    )
    return TensorBoardView(record, None, "unavailable", message)


def _server_proxy_base_url() -> str | None:
    """The base URL of this kernel's Jupyter server, when jupyter-server-proxy is installed with it."""
    if importlib.util.find_spec("jupyter_server_proxy") is None:
        return None
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        return None
    parent = os.environ.get("JPY_PARENT_PID") or str(os.getppid())
    for server in list_running_servers():
        if str(server.get("pid")) == parent:
            return str(server.get("base_url", "/"))
    return None

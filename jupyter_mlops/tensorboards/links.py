""" "Open in TensorBoard" links for the run views: where a step's (or run's) logs are served, when this
kernel's Jupyter server proxies TensorBoard, and the step has logs on this machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import MlopsError
from .registry import parent_server_base_url

if TYPE_CHECKING:
    from ..backends.base import Backend


def tensorboard_link(backend: Backend, run_id: str, step: str | None = None) -> str | None:
    """The proxied URL of TensorBoard for the run's (or step's) logs, or None if there is none here."""
    base_url = parent_server_base_url()
    if base_url is None:
        return None
    from .logdirs import run_record

    try:
        record = run_record(backend, run_id, step)
    except (MlopsError, OSError):  # no logs (yet), or a run this backend no longer has
        return None
    return f"{base_url.rstrip('/')}/mlops/tensorboard/{record.id}/"

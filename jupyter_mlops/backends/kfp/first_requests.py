"""A new kfp backend's first requests: the health check and, beside it, the probe of the KFP UI's
pod-log endpoint (pod_logs.py), when the UI is the API's own host (the UI's server, a port-forward
or a gateway: the usual case).

Sent side by side on two of the reader's connections (api_reader.py), which are then kept: connecting
waits for one round trip instead of two, and a new kernel's first page of runs finds two open
connections, for the page and the experiments' names it asks beside it (listing.py), instead of
opening one. The requests are the same as before (the probe went through urllib on a connection of
its own, closed after it). A UI on another host is probed as before.
"""

from __future__ import annotations

from typing import Any

from . import pod_logs
from .api_reader import ApiReader
from .connection import Connection


def health_and_logs(conn: Connection, reader: ApiReader) -> tuple[dict[str, Any], bool]:
    """The server's health answer (or the BackendError saying why not), and whether the KFP UI's
    pod-log endpoint is there."""
    where = reader.origin_path(conn.ui_host)
    if where is None:  # the UI on another server
        return reader.health(), pod_logs.probe(conn)
    health = reader.send_health()
    try:
        probing = pod_logs.send_probe(conn, reader, where)
    except BaseException:
        reader.drop(health)
        raise
    try:
        answer = reader.health_answer(health)
    except BaseException:
        if probing is not None:
            reader.drop(probing)
        raise
    return answer, probing is not None and pod_logs.probe_answer(reader, probing)

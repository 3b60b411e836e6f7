"""The runner service's side of its socket and pipes: a request line read, a reply sent, a wake-up pipe
drained (runner_service.py, zygotes.py)."""

from __future__ import annotations

import json
import os
import socket
from typing import Any


def send_reply(conn: socket.socket, reply: dict[str, Any]) -> None:
    try:
        conn.sendall(json.dumps(reply).encode() + b"\n")
    except OSError:
        pass  # the client gave up


def read_line(conn: socket.socket) -> bytes:
    chunks = bytearray()
    while not chunks.endswith(b"\n"):
        chunk = conn.recv(1 << 16)
        if not chunk:
            break
        chunks += chunk
    return bytes(chunks)


def drain(fd: int) -> None:
    """Empty a non-blocking wake-up pipe (signal.set_wakeup_fd's)."""
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass

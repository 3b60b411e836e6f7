"""Handing a run to the warm runner service (runner_service.py), starting the service if none answers.

`hand_over` returns the runner the service forked (pid, its start time, the socket), or None when runs
must go to a runner process of their own instead: the service is turned off (`JUPYTER_MLOPS_RUNNER=
process`), the system has no fork, or the service could not be started or reached (the reason is
written to `<home>/runner-service.log`). `describe` says which of the two `%pipeline backend` shows.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .service_address import idle_seconds, service_wanted, socket_folder_ready, socket_path

START_WAIT_S = 60.0  # a new service imports kfp first: on a loaded machine this takes seconds
REPLY_WAIT_S = 60.0
PING_WAIT_S = 5.0  # `%pipeline backend` waits no longer than this for the service's answer
REGISTER_WAIT_S = 10.0  # after a lost answer: how long a forked runner may take to record itself
LOG = "runner-service.log"


@dataclass
class HandedOver:
    pid: int
    started: float | None
    socket: str


class NoService(Exception):
    """The service could not be reached or started (the message says why)."""


class Unanswered(NoService):
    """The request was sent but no answer came: the service may have forked the runner before it died."""


class StaleService(NoService):
    """The service loaded code that has changed on disk since: it is stopping; start a new one."""


class Encoded(str):
    """A value of a request that is JSON already (a run's documents, as its pipeline.json holds them)."""


def _line(message: Mapping[str, Any]) -> bytes:
    """The request as one line of JSON; an `Encoded` value goes in as it is (not encoded again)."""
    encoded = [f"{json.dumps(k)}: {v}" for k, v in message.items() if isinstance(v, Encoded)]
    text = json.dumps({k: v for k, v in message.items() if not isinstance(v, Encoded)})
    if encoded:
        text = text[:-1] + (", " if text != "{}" else "") + ", ".join(encoded) + "}"
    return text.encode() + b"\n"


def _ask(address: Path, message: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    """One request, one reply. ConnectionError/FileNotFoundError when nothing listens (nothing sent)."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(timeout)
        conn.connect(str(address))
        conn.sendall(_line(message))
        data = bytearray()
        try:
            while not data.endswith(b"\n"):
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
        except OSError as exc:
            raise Unanswered(f"the runner service at {address} did not answer: {exc}") from exc
    finally:
        conn.close()
    if not data.endswith(b"\n"):
        raise Unanswered(f"the runner service at {address} closed the connection without answering")
    reply: dict[str, Any] = json.loads(bytes(data))
    if "error" in reply:
        kind = StaleService if reply.get("stale") else NoService
        raise kind(f"the runner service at {address} answered: {reply['error']}")
    return reply


def _start(home: Path, address: Path, env: Mapping[str, str]) -> None:
    socket_folder_ready(address, home)
    command = [sys.executable, "-m", "jupyter_mlops.backends.runner_service", "--home", str(home),
               "--socket", str(address), "--idle", f"{idle_seconds():g}"]  # fmt: skip
    with open(home / LOG, "ab") as log:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the kernel that started it; no terminal signals
            close_fds=True,
            cwd=home,
            env=_service_env(env),
        )
    # Waited for in the background, so a service that exits (idle) leaves no zombie in a long-lived
    # kernel; once this kernel is gone, init reaps it.
    threading.Thread(target=proc.wait, daemon=True, name="runner-service-reaper").start()


def _service_env(env: Mapping[str, str]) -> dict[str, str]:
    """The kernel's environment without the run's tags: the service must never look like a process
    of the run that happened to start it (a run's clean-up kills what carries its tag)."""
    from ..executor.leftovers import STEP_TAG_ENV
    from .runner_liveness import RUN_MARKER_ENV

    return {k: v for k, v in env.items() if k not in (RUN_MARKER_ENV, STEP_TAG_ENV)}


def _connect_or_start(
    home: Path, address: Path, message: Mapping[str, Any], env: Mapping[str, str]
) -> dict[str, Any]:
    deadline = time.monotonic() + START_WAIT_S
    while True:
        try:
            return _ask(address, message, REPLY_WAIT_S)
        except (FileNotFoundError, ConnectionRefusedError):
            break
        except StaleService:  # it goes away at once; until its socket is gone, ask again
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
    _start(home, address, env)
    deadline = time.monotonic() + START_WAIT_S
    pause = 0.005
    while True:
        try:
            return _ask(address, message, REPLY_WAIT_S)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            if time.monotonic() >= deadline:
                raise NoService(
                    f"the runner service did not start within {START_WAIT_S:g} s ({exc})"
                ) from exc
        time.sleep(pause)
        pause = min(pause * 1.5, 0.1)


def hand_over(
    home: Path,
    run_id: str,
    run_dir: Path,
    *,
    artifact_root: Path | None,
    max_workers: int | None,
    env: Mapping[str, str],
    documents: Sequence[Mapping[str, Any]] | None,
    documents_json: str | None = None,
) -> HandedOver | None:
    """Hand the run to the service (started if need be); None where no service can take it.
    `documents_json`: the documents already encoded (the run's pipeline.json), sent as they are."""
    if service_wanted() is not None:
        return None
    address = socket_path(home)
    message = {
        "op": "run",
        "run_id": run_id,
        "home": str(home),
        "artifact_root": str(artifact_root) if artifact_root is not None else None,
        "max_workers": max_workers,
        "run_dir": str(run_dir),
        "env": dict(env),
        "documents": (
            Encoded(documents_json)
            if documents_json is not None
            else [dict(d) for d in documents]
            if documents is not None
            else None
        ),
    }
    try:
        reply = _connect_or_start(home, address, message, env)
    except Unanswered as exc:
        # Forked or not? A runner that got going records itself: then it is the run's runner, and a
        # second one must not be started.
        found = _runner_registered(home, run_id, artifact_root)
        if found is not None:
            _note(home, f"run {run_id}: {exc}; its runner {found.pid} had started")
            return found
        _note(home, f"run {run_id} goes to a runner process of its own: {exc}; no runner recorded it")
        return None
    except (NoService, OSError, ValueError) as exc:
        _note(home, f"run {run_id} goes to a runner process of its own: {exc}")
        return None
    return HandedOver(int(reply["pid"]), reply.get("started"), str(address))


def _runner_registered(home: Path, run_id: str, artifact_root: Path | None) -> HandedOver | None:
    """The runner that took `run_id` (it records itself at its start), waited for a while, or None."""
    from ..store import RunStore

    store = RunStore(home, artifact_root=artifact_root, probe=False)
    try:
        deadline = time.monotonic() + REGISTER_WAIT_S
        while True:
            record = store.runner_record(run_id)
            if record.get("pid"):
                return HandedOver(int(record["pid"]), record.get("started"), record.get("service") or "")
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
    finally:
        store.close()


def describe(home: Path) -> str:
    """Which runner runs this home's runs, for `%pipeline backend`."""
    why_not = service_wanted()
    if why_not is not None:
        return f"a runner process per run ({why_not})"
    address = socket_path(home)
    try:
        reply = _ask(address, {"op": "ping"}, PING_WAIT_S)
    except Unanswered as exc:
        if isinstance(exc.__cause__, TimeoutError):  # it listens, but is slow to answer (a machine
            return (  # under heavy load, a service stopped in a debugger)
                f"runner service (running, busy: it did not answer within {PING_WAIT_S:g} s; runs "
                f"handed to it wait their turn; socket {address})"
            )
        return f"runner service (not running now: it stopped while it was asked; socket {address})"
    except (OSError, NoService, ValueError):
        return f"runner service (not running now: the next run starts it; socket {address})"
    preloaded = "; ".join(", ".join(z) for z in reply.get("zygotes", []))
    with_zygotes = f"; steps preloaded with {preloaded}" if preloaded else ""
    count = int(reply["runs"])
    going = f"{'no' if count == 0 else count} run{'' if count == 1 else 's'} going on{with_zygotes}"
    return f"runner service pid {reply['pid']} ({going}; socket {address})"


def _note(home: Path, text: str) -> None:
    try:
        with open(home / LOG, "a") as f:
            f.write(f"{time.ctime()} {text}\n")
    except OSError:
        pass

"""TensorBoard processes: started bound to 127.0.0.1 on a free port, told when they are ready, checked
for life, and stopped with the process that started them.

TensorBoard has no authentication, so it never listens beyond this machine's loopback address; the
browser reaches it only through the server extension's proxy (or Colab's own kernel-port proxy).
It runs in a child Python that, on Linux, asks the kernel to end it when its parent dies
(PR_SET_PDEATHSIG), so a crashed Jupyter server or kernel leaves no TensorBoard behind.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .registry import Record, registry_dir

# The child: on Linux, die with the parent (checked again after the call, in case it died first),
# then TensorBoard's own main with the arguments that follow.
_LAUNCHER = """
import os, sys
parent = int(sys.argv.pop(1))
if sys.platform.startswith("linux"):
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM
if os.getppid() != parent:
    sys.exit(0)
from tensorboard.main import run_main
run_main()
"""
_READY = re.compile(rb"TensorBoard \S+ at http://127\.0\.0\.1:(\d+)/")
START_TIMEOUT_S = 90.0


class TensorBoardStartError(RuntimeError):
    """TensorBoard exited or never said it was serving; the message holds the end of its log."""


@dataclass
class Instance:
    record: Record
    path_prefix: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    started: float = field(default_factory=time.time)

    def alive(self) -> bool:
        """The process runs and accepts connections on its port."""
        if self.process.poll() is not None or not self.port:
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def describe(self) -> dict[str, object]:
        return {
            "id": self.record.id,
            "title": self.record.title,
            "logdir": self.record.logdir,
            "pid": self.process.pid,
            "running": self.process.poll() is None,
            "started": self.started,
        }


def launch(record: Record, path_prefix: str = "") -> Instance:
    """Start TensorBoard for `record` (not yet ready: see wait_ready / wait_ready_async)."""
    log = registry_dir() / f"{record.id}-{os.getpid()}.log"
    command = [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *record.arguments()]
    command += ["--host", "127.0.0.1", "--port", "0", "--load_fast", "false", "--reload_interval", "2"]
    if path_prefix:
        command += ["--path_prefix", path_prefix]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_TOKEN"))}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, cwd="/"
        )
    return Instance(record, path_prefix, process, log)


def _check(instance: Instance) -> bool:
    """True once TensorBoard said where it serves; raises if it exited."""
    text = instance.log.read_bytes() if instance.log.exists() else b""
    match = _READY.search(text)
    if match:
        instance.port = int(match.group(1))
        return True
    if instance.process.poll() is not None:
        tail = text.decode("utf-8", "replace").strip().splitlines()[-8:]
        raise TensorBoardStartError(
            f"TensorBoard for {instance.record.title} exited with code {instance.process.returncode} "
            "before serving:\n" + "\n".join(tail)
        )
    return False


def wait_ready(instance: Instance, timeout: float = START_TIMEOUT_S) -> Instance:
    deadline = time.monotonic() + timeout
    pause = 0.02
    while not _check(instance):
        if time.monotonic() > deadline:
            instance.stop()
            title = instance.record.title
            raise TensorBoardStartError(f"TensorBoard for {title} did not start in {timeout} s")
        time.sleep(pause)
        pause = min(0.1, pause * 1.5)
    return instance


async def wait_ready_async(instance: Instance, timeout: float = START_TIMEOUT_S) -> Instance:
    deadline = time.monotonic() + timeout
    pause = 0.02
    while not _check(instance):
        if time.monotonic() > deadline:
            instance.stop()
            title = instance.record.title
            raise TensorBoardStartError(f"TensorBoard for {title} did not start in {timeout} s")
        await asyncio.sleep(pause)
        pause = min(0.1, pause * 1.5)
    return instance


class LocalInstances:
    """TensorBoards this process started itself (a kernel in Colab, the command line): one per
    record, reused while alive, started again when dead, stopped when this process exits."""

    def __init__(self) -> None:
        self._instances: dict[str, Instance] = {}

    def ensure(self, record: Record, path_prefix: str = "") -> tuple[Instance, bool]:
        """(the live instance, whether it was started now)."""
        current = self._instances.get(record.id)
        if current is not None and current.path_prefix == path_prefix and current.alive():
            return current, False
        if current is not None:
            current.stop()
        instance = wait_ready(launch(record, path_prefix))
        self._instances[record.id] = instance
        return instance, True

    def stop_all(self) -> None:
        for instance in self._instances.values():
            instance.stop()
        self._instances.clear()

"""The Jupyter server's TensorBoards: started on the first request for a registered id, reused while
alive, started again when dead (never proxied dead), and all stopped with the server."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from ..tensorboards.process import Instance, launch, wait_ready_async
from ..tensorboards.registry import Record, lookup

PROXY_PREFIX = "mlops/tensorboard"


def path_prefix(instance_id: str) -> str:
    """Where TensorBoard thinks it lives. Its pages use relative URLs only (`tb-relative-root`), so
    the server's base URL need not be part of it: the proxy strips the base URL before forwarding."""
    return f"/{PROXY_PREFIX}/{instance_id}"


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2.0)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class TensorBoardManager:
    def __init__(self) -> None:
        self._instances: dict[str, Instance] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def ensure(self, instance_id: str) -> Instance | None:
        """The live instance for a registered id (started now if needed); None if not registered."""
        record = lookup(instance_id)
        if record is None:
            return None
        lock = self._locks.setdefault(instance_id, asyncio.Lock())
        async with lock:
            current = self._instances.get(instance_id)
            alive = current is not None and current.record == record and current.process.poll() is None
            if current is not None and alive and await _accepts(current.port):
                return current
            if current is not None:
                current.stop()  # dead or stuck: never shown, replaced by a fresh one
                del self._instances[instance_id]
            return await self._start(record)

    async def _start(self, record: Record) -> Instance:
        instance = await wait_ready_async(launch(record, path_prefix(record.id)))
        self._instances[record.id] = instance
        return instance

    def forget(self, instance_id: str) -> None:
        """Drop an instance that failed a request (it is started again on the next one)."""
        instance = self._instances.pop(instance_id, None)
        if instance is not None:
            instance.stop()

    def list(self) -> list[dict[str, Any]]:
        return [instance.describe() for instance in self._instances.values()]

    def stop(self, instance_id: str) -> bool:
        instance = self._instances.pop(instance_id, None)
        if instance is None:
            return False
        instance.stop()
        return True

    def stop_all(self) -> None:
        for instance_id in list(self._instances):
            self.stop(instance_id)


def manager_of(app: Any) -> TensorBoardManager:
    """The extension app's TensorBoards (made on first use)."""
    manager = getattr(app, "_tensorboards", None)
    if manager is None:
        manager = app._tensorboards = TensorBoardManager()
    return cast(TensorBoardManager, manager)

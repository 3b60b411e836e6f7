"""Run state changes pushed to whoever waits for them, across processes, without polling or inotify.

A waiter (`run.wait()`, a run view, the server's event stream) makes a FIFO of its own under

    <home>/notify/<run id>/<pid>-<random>     (watching one run: every event)
    <home>/notify/<run id>@state/...          (watching only the run's own state: run.wait())
    <home>/notify/_any/<pid>-<random>         (watching every run: lists, the server)

and blocks in `select` on it. A process that changed a run (the runner recording a step, a reader
finalizing a dead run, a cancel, a cached run resolved in the submitting process, the runner service)
calls `publish(home, run_ids)` after its write is committed: one byte to each FIFO of those runs and of
`_any`, opened without blocking. `RunStore` does this after every transaction that wrote a run event,
so any writer of the store publishes without knowing it.

- Nobody waiting costs a publisher two failed `stat`s. A publisher remembers the FIFOs it listed in
  a folder with the folder's modification time, and lists it again only when that time changed (a
  watcher came or went) or is too recent to tell a later change by (file times come from a clock
  that ticks every few ms): a runner recording a step does not list a folder on every write.
- A waiter that died (SIGKILL) leaves a FIFO with no reader: the next publisher's open fails (ENXIO)
  and it removes the FIFO.
- A notification says only "look again": the waiter re-reads the store. One missed (a FIFO full of
  unread bytes) changes nothing, since the pending bytes already wake the waiter. A waiter still reads
  the store now and then (its `timeout`), for what nobody can announce: a runner killed by SIGKILL.
- Where there are no FIFOs (Windows), `RunWatch.wait` sleeps its timeout: the caller's poll.

The interface the runner service uses: `publish(home, run_ids, state_changed)` after each committed
change (the store does it for writes through `RunStore`), and `RunWatch(home, run_id)` to wait for one
(`states_only=True`: only for changes of the run's own state, as `run.wait()` does).
"""

from __future__ import annotations

import errno
import functools
import os
import secrets
import select
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

NOTIFY_DIR = "notify"
ANY_RUN = "_any"  # watchers of every run
STATES_ONLY = "@state"  # <run id>@state: watchers woken only when the run's own state changes


def notify_dir(home: Path, run_id: str | None, states_only: bool = False) -> Path:
    return Path(_folder(str(home), run_id, states_only))


@functools.lru_cache(maxsize=256)
def _folder(home: str, run_id: str | None, states_only: bool) -> str:
    """`notify_dir` as a string, made once per run (a publisher asks for the same folders every write)."""
    if run_id is not None and (not run_id or os.sep in run_id or "/" in run_id or run_id.startswith(".")):
        raise ValueError(f"not a run id: {run_id!r}")
    return os.path.join(home, NOTIFY_DIR, (run_id or ANY_RUN) + (STATES_ONLY if states_only else ""))


# A folder's listing is reused while its modification time is the one it was listed at, and that time
# is this old at least when it is listed: a watcher added later changes it to a later tick of the
# file-time clock (coarse: a few ms), one added within the same tick is listed with it.
SETTLED_NS = 1_000_000_000
_listed: dict[str, tuple[int, int, list[str]]] = {}  # folder -> (its inode, its mtime, its FIFOs' names)
_listed_lock = threading.Lock()


def publish(home: Path, run_ids: Iterable[str], state_changed: Iterable[str] = ()) -> int:
    """Wake every watcher of `run_ids` and of all runs, and the watchers of only the run's own state
    (`run.wait()`) of the runs in `state_changed`; how many FIFOs were written to. Never raises: a
    notification that cannot be delivered leaves the waiter to its next look at the store."""
    root = str(home)
    folders = [_folder(root, r, False) for r in dict.fromkeys(run_ids)]
    folders += [_folder(root, r, True) for r in dict.fromkeys(state_changed)]
    folders.append(_folder(root, None, False))
    woken = 0
    for folder in folders:
        for name in _names(folder):
            woken += _poke(os.path.join(folder, name))
    return woken


def _names(folder: str) -> list[str]:
    """The FIFOs in `folder` (none if it does not exist: nobody waits), listed again only if it changed."""
    try:
        st = os.stat(folder)
    except OSError:
        with _listed_lock:
            _listed.pop(folder, None)
        return []
    with _listed_lock:
        known = _listed.get(folder)
    if known is not None and known[0] == st.st_ino and known[1] == st.st_mtime_ns:
        return known[2]
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    with _listed_lock:
        if time.time_ns() - st.st_mtime_ns >= SETTLED_NS:
            if len(_listed) >= 1024:  # a long-lived publisher (the service, the server) sees many runs
                _listed.clear()
            _listed[folder] = (st.st_ino, st.st_mtime_ns, names)
        else:
            _listed.pop(folder, None)
    return names


def _poke(path: str) -> int:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # no reader: its waiter died without removing it
            _unlink(path)
        return 0  # (ENOENT: its watcher closed since its folder was listed)
    try:
        os.write(fd, b"\0")
    except OSError:  # EAGAIN: full of bytes not read yet, so the waiter is woken already
        pass
    finally:
        os.close(fd)
    return 1


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class RunWatch:
    """Wait for a change to one run (`run_id`) or to any run (None). Make it before reading the state
    it waits to see change, so no change between the read and the wait is missed:

        with RunWatch(home, run_id) as watch:
            while not finished():
                watch.wait(0.5)
    """

    def __init__(self, home: Path, run_id: str | None = None, *, states_only: bool = False) -> None:
        """`states_only`: woken only when the run's own state changes (PENDING, RUNNING, a final
        state), not for each step, artifact or metric (what `run.wait()` needs)."""
        self.path: Path | None = None
        self._read_fd = -1
        self._write_fd = -1
        if not hasattr(os, "mkfifo"):
            return
        folder = notify_dir(home, run_id, states_only=states_only and run_id is not None)
        path = folder / f"{os.getpid()}-{secrets.token_hex(4)}"
        for _ in range(3):  # another watcher's close may remove the folder between mkdir and mkfifo
            try:
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                os.mkfifo(path, 0o600)
                break
            except FileNotFoundError:
                continue
            except OSError:
                return  # an unwritable home: the caller polls
        else:
            return
        try:
            self._read_fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            # A write end of our own: with none, a FIFO whose last writer closed reads as EOF forever
            # and select would return at once, every time.
            self._write_fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            self.close()
            _unlink(path)
            return
        self.path = path

    @property
    def pushed(self) -> bool:
        """True when changes are pushed; False when `wait` only sleeps (no FIFOs here)."""
        return self._read_fd >= 0

    def fileno(self) -> int:
        """The descriptor that becomes readable on a change (for an event loop's add_reader); -1 if none."""
        return self._read_fd

    def wait(self, timeout: float | None) -> bool:
        """Block until a change is announced (True) or `timeout` seconds pass (False); the
        announcements that came meanwhile are consumed."""
        if self._read_fd < 0:
            if timeout is not None:
                time.sleep(timeout)
            return False
        try:
            ready, _, _ = select.select([self._read_fd], [], [], timeout)
        except InterruptedError:
            return False
        if not ready:
            return False
        self.drain()
        return True

    async def wait_async(self, timeout: float) -> bool:
        """`wait` for an asyncio event loop (the server): the loop watches the FIFO, nothing blocks."""
        import asyncio

        if self._read_fd < 0:
            await asyncio.sleep(timeout)
            return False
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()
        fd = self._read_fd

        def readable() -> None:
            if not woken.done():
                woken.set_result(None)

        loop.add_reader(fd, readable)
        try:
            await asyncio.wait_for(woken, timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            loop.remove_reader(fd)
            self.drain()

    def wake(self) -> None:
        """Wake this watch's own `wait` (from another thread of this process: a view being stopped)."""
        if self._write_fd >= 0:
            try:
                os.write(self._write_fd, b"\0")
            except OSError:
                pass

    def drain(self) -> None:
        try:
            while os.read(self._read_fd, 4096):
                pass
        except OSError:  # EAGAIN: nothing more to read
            pass

    def close(self) -> None:
        for fd in (self._read_fd, self._write_fd):
            if fd >= 0:
                os.close(fd)
        self._read_fd = self._write_fd = -1
        if self.path is not None:
            _unlink(self.path)
            try:
                self.path.parent.rmdir()  # the run's folder, once its last watcher has gone
            except OSError:
                pass
            self.path = None

    def __enter__(self) -> RunWatch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit the modules close() uses may be gone already
            pass


def backend_watch(backend: object, run_id: str | None, *, states_only: bool = False) -> RunWatch | None:
    """`backend.watch(run_id)` for a backend that pushes changes (the local one), else None (poll)."""
    make = getattr(backend, "watch", None)
    watch = make(run_id, states_only=states_only) if callable(make) else None
    return watch if isinstance(watch, RunWatch) else None

"""What an uncached step's cache work writes (executor/cache.py): creating a file costs ~0.2 ms of CPU on
this machine's disk, and each uncached step made two for the cache (a lock file under step-locks/ and its
entry, written to a temporary file and renamed). The entry's own file is now the single-flight lock too:
the step holding it has its name in it while it runs, its entry when it ends."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from jupyter_mlops.executor.cache import StepCache

KEY = "cd" * 32


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_an_uncached_step_writes_one_file_for_the_cache(tmp_path: Path) -> None:
    cache = StepCache(tmp_path)
    assert cache.lookup(KEY) is None
    with cache.single_flight(KEY, threading.Event(), "run r1 step s", lambda _: None) as held:
        assert held
        assert cache.lookup(KEY) is None  # running: not an entry yet
        cache.store(KEY, {"v": 1}, {})
    assert _files(tmp_path) == [f"steps/cd/{KEY}.json"]
    hit = cache.lookup(KEY)
    assert hit is not None and hit.parameters == {"v": 1}


def test_a_step_waiting_for_the_same_step_is_told_who_runs_it_and_then_finds_its_entry(
    tmp_path: Path,
) -> None:
    cache = StepCache(tmp_path)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with cache.single_flight(KEY, threading.Event(), "run r1 step s", lambda _: None):
            holding.set()
            release.wait(30)
            cache.store(KEY, {"v": 2}, {})

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(30)
    seen: list[str] = []
    threading.Timer(0.2, release.set).start()
    with cache.single_flight(KEY, threading.Event(), "run r2 step s", seen.append) as held:
        assert held and seen == ["run r1 step s"]
        hit = cache.lookup(KEY)  # what the holder left: not overwritten by this step's name
        assert hit is not None and hit.parameters == {"v": 2}
    holder.join(30)
    hit = cache.lookup(KEY)
    assert hit is not None and hit.parameters == {"v": 2}


def test_a_step_killed_while_it_held_its_key_leaves_a_miss_that_runs_again(tmp_path: Path) -> None:
    cache = StepCache(tmp_path)
    pid = os.fork()
    if pid == 0:  # a runner killed mid-step: its name stays in the file, no entry
        with cache.single_flight(KEY, threading.Event(), "run r1 step s", lambda _: None):
            os._exit(0)
    os.waitpid(pid, 0)
    assert cache.lookup(KEY) is None
    seen: list[str] = []
    with cache.single_flight(KEY, threading.Event(), "run r2 step s", seen.append) as held:
        assert held and seen == []  # nobody holds it: no wait
        assert cache.lookup(KEY) is None
        cache.store(KEY, {"v": 3}, {})
    hit = cache.lookup(KEY)
    assert hit is not None and hit.parameters == {"v": 3}

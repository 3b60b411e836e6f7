"""Soak: many runs of a 5-step pipeline started from several processes and the server at once, while
runners and steps are SIGKILLed at random (issue 12, Must show).

Checks, and prints as JSON at the end:
- every run ends in a final state (within `--drain` seconds after the last submit);
- no process carrying any run's id is left (orphans), once the runs are final and readers have looked;
- the store is intact: `PRAGMA integrity_check` says ok;
- the sidebar's API answers throughout: `GET mlops/api/runs?limit=50` every 0.5 s from a poller
  thread, with its error count and latencies.

    python bench/soak.py --runs 1000 --submitters 4 --kill-every 0.5      # the issue's scale
    python bench/soak.py --runs 100                                        # what a shared 2-core box affords

A fifth of the runs are POSTed through the server (`mlops/api/runs`), the rest submitted by
`--submitters` processes through `LocalBackend.submit`; each submitter keeps at most `--in-flight`
of its runs unfinished at once, so the machine is loaded, not swamped.
"""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.

import argparse
import json
import multiprocessing
import os
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# SOAK_PACKAGE_ROOT: soak another checkout's jupyter_mlops (a before/after comparison); runners follow
sys.path.insert(0, os.environ.get("SOAK_PACKAGE_ROOT") or str(Path(__file__).resolve().parents[1]))

from bench_server import Server

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.backends.runner_liveness import RUN_MARKER_ENV


def five_steps() -> str:
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def work(x: int, pause: float) -> int:
        import time

        time.sleep(pause)
        print("step", x, flush=True)
        return x + 1

    @dsl.pipeline(name="soak")
    def soak(pause: float = 0.2) -> int:
        value = work(x=0, pause=pause).set_caching_options(False)
        for _ in range(4):
            value = work(x=value.output, pause=pause).set_caching_options(False)
        return value.output

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "soak.yaml"
        compiler.Compiler().compile(soak, package_path=str(path))
        return path.read_text()


def submitter(home: str, spec: str, count: int, in_flight: int, ids: Any) -> None:
    backend = LocalBackend(Path(home))
    mine: list[str] = []
    for _ in range(count):
        while True:
            active = [r for r in mine if not backend.get(r).state.terminal]
            if len(active) < in_flight:
                break
            time.sleep(0.1)
        run_id = backend.submit(spec, {"pause": random.uniform(0.05, 0.4)}).id
        mine.append(run_id)
        ids.put(run_id)
    backend.close()


def via_server(server: Server, spec: str, count: int, in_flight: int, ids: list[str]) -> None:
    mine: list[str] = []
    for _ in range(count):
        while True:
            active = [r for r in mine if server.call(f"mlops/api/runs/{r}")["state"] not in FINAL]
            if len(active) < in_flight:
                break
            time.sleep(0.1)
        run = server.call("mlops/api/runs", {"pipeline_yaml": spec, "arguments": {"pause": 0.2}})
        mine.append(run["id"])
        ids.append(run["id"])


FINAL = {"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED", "CACHED"}


def processes_with(variable: str) -> dict[int, str]:
    """pid -> value of `variable` for every live process whose environment has it."""
    found: dict[int, str] = {}
    prefix = variable.encode() + b"="
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state in ("Z", "X"):
            continue
        for item in environ.split(b"\0"):
            if item.startswith(prefix):
                found[int(entry.name)] = item[len(prefix) :].decode()
    return found


def soak_processes(home: str) -> dict[str, list[int]]:
    """The soak's live processes by kind: runners, their step workers, and steps (forked by a worker
    or started by a step), found by the run id every one of them inherits, and only those of the
    soak's own home: other runs on this machine (a test suite, a notebook) are never touched."""
    ours = {pid for pid, value in processes_with("JUPYTER_MLOPS_HOME").items() if value == home}
    marked = {pid: run for pid, run in processes_with(RUN_MARKER_ENV).items() if pid in ours}
    kinds: dict[str, list[int]] = {"runner": [], "worker": [], "step": []}
    parents: dict[int, int] = {}
    for pid in marked:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            parents[pid] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"local_runner" in cmdline:
            kinds["runner"].append(pid)
    runners = set(kinds["runner"])
    for pid, parent in parents.items():
        if pid not in runners:
            kinds["worker" if parent in runners else "step"].append(pid)
    return kinds


class Chaos(threading.Thread):
    """Every `every` seconds, SIGKILL a random runner, step worker or step of the soak's runs."""

    def __init__(self, every: float, home: str) -> None:
        super().__init__(daemon=True)
        self.every, self.home, self.stop = every, home, threading.Event()
        self.kills = {"runner": 0, "worker": 0, "step": 0}

    def run(self) -> None:
        while not self.stop.wait(self.every):
            kinds = soak_processes(self.home)
            kind = random.choice(["runner", "step", "step", "worker"])
            if not kinds[kind]:
                continue
            try:
                os.kill(random.choice(kinds[kind]), signal.SIGKILL)
                self.kills[kind] += 1
            except OSError:
                pass


class Poller(threading.Thread):
    """The sidebar: the runs list every 0.5 s, timing each answer."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server, self.stop = server, threading.Event()
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.wait(0.5):
            start = time.monotonic()
            try:
                self.server.call("mlops/api/runs?limit=50")
                self.latencies.append(time.monotonic() - start)
            except Exception as exc:  # every failure counts; the soak goes on
                self.errors.append(f"{type(exc).__name__}: {exc}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--submitters", type=int, default=4)
    parser.add_argument("--in-flight", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=0.5)
    parser.add_argument("--drain", type=float, default=300.0)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="mlops-soak-"))
    home = base / "home"
    os.environ["JUPYTER_MLOPS_HOME"] = str(home)
    spec = five_steps()
    server = Server(base)
    poller, chaos = Poller(server), Chaos(args.kill_every, str(home))
    started = time.monotonic()
    poller.start()
    chaos.start()
    server_share = args.runs // 5
    per_process = (args.runs - server_share) // args.submitters
    queue: Any = multiprocessing.get_context("spawn").Queue()
    workers = [
        multiprocessing.get_context("spawn").Process(
            target=submitter, args=(str(home), spec, per_process, args.in_flight, queue)
        )
        for _ in range(args.submitters)
    ]
    for w in workers:
        w.start()
    server_ids: list[str] = []
    via_server(server, spec, server_share, args.in_flight, server_ids)
    for w in workers:
        w.join()
    submitted_s = time.monotonic() - started
    chaos.stop.set()
    ids = list(server_ids)
    while not queue.empty():
        ids.append(queue.get())

    backend = LocalBackend(home)
    deadline = time.monotonic() + args.drain
    unfinished = ids
    while unfinished and time.monotonic() < deadline:
        unfinished = [r for r in unfinished if not backend.get(r).state.terminal]
        time.sleep(0.5)
    poller.stop.set()
    time.sleep(2)  # runners that just recorded their final state exit
    runs = [backend.get(r) for r in ids]
    states: dict[str, int] = {}
    for run in runs:
        states[run.state.value] = states.get(run.state.value, 0) + 1
    known = set(ids)
    orphans = {p: r for p, r in processes_with(RUN_MARKER_ENV).items() if r in known}
    db = sqlite3.connect(home / "store.db")
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    server.stop()
    for pid in orphans:  # reported above; not left on the machine
        os.kill(pid, signal.SIGKILL)
    lat = sorted(poller.latencies) or [0.0]
    result = {
        "runs": len(ids),
        "states": states,
        "not_final": len(unfinished),
        "orphans": len(orphans),
        "integrity_check": integrity,
        "kills": chaos.kills,
        "api_polls": len(poller.latencies) + len(poller.errors),
        "api_errors": len(poller.errors),
        "api_first_errors": poller.errors[:3],
        "api_median_ms": round(statistics.median(lat) * 1000, 1),
        "api_p99_ms": round(lat[int(len(lat) * 0.99) - 1 if len(lat) > 1 else 0] * 1000, 1),
        "api_max_ms": round(lat[-1] * 1000, 1),
        "submit_seconds": round(submitted_s, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "home": str(home),
    }
    print(json.dumps(result, indent=2))
    ok = not unfinished and not orphans and integrity == "ok" and not poller.errors
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

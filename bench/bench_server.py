"""Load on the server extension: N concurrent clients polling the runs list and run details.

Starts a real `jupyter server` with jupyter-mlops on 127.0.0.1 (its own temporary home and root), starts a
few real runs through `POST mlops/api/runs`, then for `--seconds` has `--clients` concurrent clients each
poll `GET mlops/api/runs?limit=50` and `GET mlops/api/runs/{id}`, in two modes:

- polling: each client starts a round every `--interval` seconds (at a random phase), as a UI polls
  (the JupyterLab sidebar polls every 2 s);
- saturation: each client starts its next request as soon as the last one answered (a closed loop: the
  latency is then mostly the queue of the other clients' requests, by Little's law clients/throughput).

The peer, measured in the same run with the same clients and modes: jupyter-server's own
`GET /api/status` (no I/O) and `GET /api/contents`. The server's CPU time per request comes from
/proc/<pid>/stat, which the client process's share of the two cores does not inflate.

    python bench/bench_server.py --clients 50 --seconds 30 --interval 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import nbformat
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

NOTEBOOK = [
    "%load_ext jupyter_mlops",
    "%%component make\nnumbers = [3, 1, 2]\nprint('made', numbers)",
    "%%component total\nresult = sum(numbers)\nprint('the total is', result)",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, base: Path) -> None:
        self.base, self.port, self.token = base, free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        (base / "root").mkdir()
        env = dict(os.environ, JUPYTER_MLOPS_HOME=str(base / "home"), JUPYTER_RUNTIME_DIR=str(base / "rt"))
        self.log = (base / "server.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--no-browser",
                "--allow-root",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                f"--ServerApp.root_dir={base / 'root'}",
                f"--IdentityProvider.token={self.token}",
                "--ServerApp.log_level=WARN",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                self.call("api/status")
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"server did not start; see {base / 'server.log'}") from None
                time.sleep(0.2)

    def call(self, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            method="GET" if body is None else "POST",
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def server_cpu_seconds(pid: int) -> float:
    """utime + stime of the server process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(
    server: Server, paths: dict[str, list[str]], clients: int, seconds: float, interval: float
) -> dict[str, Any]:
    """Every client cycles through every kind's paths, a round every `interval` seconds (0: back to
    back); latencies per kind, every error, and the server's CPU seconds over the load."""
    http = AsyncHTTPClient(force_instance=True, max_clients=clients)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    headers = {"Authorization": f"token {server.token}"}
    cpu_before = server_cpu_seconds(server.process.pid)
    deadline = time.monotonic() + seconds

    async def client(number: int) -> None:
        i = number
        if interval:
            await asyncio.sleep(random.uniform(0, interval))  # clients poll at random phases
        while time.monotonic() < deadline:
            round_start = time.monotonic()
            for kind, options in paths.items():
                path = options[i % len(options)]
                start = time.perf_counter()
                try:
                    await http.fetch(server.url + path, headers=headers, request_timeout=60)
                except (HTTPClientError, OSError) as error:
                    errors.append(f"{kind} {path}: {error}")
                    continue
                latencies[kind].append((time.perf_counter() - start) * 1000)
            i += 1
            if interval:
                await asyncio.sleep(max(0.0, round_start + interval - time.monotonic()))

    await asyncio.gather(*(client(n) for n in range(clients)))
    http.close()
    cpu = server_cpu_seconds(server.process.pid) - cpu_before
    return {"latencies": latencies, "errors": errors, "cpu": cpu}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=5, help="real runs started before the load")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between a polling client's rounds"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            notebook = nbformat.v4.new_notebook()
            notebook.cells = [nbformat.v4.new_code_cell(c) for c in NOTEBOOK]
            nbformat.write(notebook, str(Path(tmp) / "root" / "sums.ipynb"))
            ids = [server.call("mlops/api/runs", {"notebook": "sums.ipynb"})["id"] for _ in range(args.runs)]
            done = {"SUCCEEDED", "FAILED"}
            while any(server.call(f"mlops/api/runs/{i}")["state"] not in done for i in ids):
                time.sleep(0.5)
            ours = {
                "mlops runs list (limit=50)": ["mlops/api/runs?limit=50"],
                "mlops run detail": [f"mlops/api/runs/{i}" for i in ids],
            }
            peer = {
                "jupyter-server /api/status": ["api/status"],
                "jupyter-server /api/contents": ["api/contents"],
            }
            results = []
            modes = ((f"polling every {args.interval:g} s", args.interval), ("saturation", 0.0))
            for mode, interval in modes:
                for kinds, seconds in ((ours, args.seconds), (peer, args.seconds / 3)):
                    results.append((mode, asyncio.run(load(server, kinds, args.clients, seconds, interval))))
        finally:
            server.stop()

    errors = [e for _, r in results for e in r["errors"]]
    print(f"{args.clients} clients, {args.seconds:.0f} s (peer {args.seconds / 3:.0f} s), {args.runs} runs")
    print("| mode | endpoint | requests | p50 ms | p99 ms | max ms | server CPU ms/request |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for mode, result in results:
        total = sum(len(v) for v in result["latencies"].values())
        cpu_per_request = 1000 * result["cpu"] / max(1, total)
        for kind, values in result["latencies"].items():
            print(
                f"| {mode} | {kind} | {len(values)} | {statistics.median(values):.1f} | "
                f"{percentile(values, 0.99):.1f} | {max(values):.1f} | {cpu_per_request:.2f} |"
            )
    print(f"errors: {len(errors)}")
    for error in errors[:10]:
        print("  ", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

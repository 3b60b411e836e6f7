"""The kfp backend against 10,000 runs on the stand-in KFP v2beta1 server (tests/kfp_standin): what the
first page of `%pipeline runs` and of the sidebar costs the KFP server, next to what the KFP UI's own
runs page asks of the same server; and the polling load one open run view puts on it.

The stand-in is not Kubeflow Pipelines (no MySQL, no Argo, no Istio): its absolute times say little
about a cluster, the request counts say exactly what a cluster would be asked. 10,000 runs: three runs
really executed (the stand-in runs them with the local runner), then 10,000 run records cloned from
them into the stand-in's table, spread over 5 experiments (a run's listing cost does not depend on
how it ran).

1. `%pipeline runs` (the runs table, 50 rows) in-process, through a new kfp backend (a new kernel):
   "cold", the first kernel on its machine (no experiment names kept on disk: the runs and the
   experiments' names are asked side by side), and "warm", a later kernel (names kept on disk by an
   earlier one: the page alone). KFP requests, wall time.
2. The sidebar's first page through a real `jupyter server` configured with `backend = kfp`:
   `GET mlops/api/runs?offset=0&limit=100` (what runlist.ts asks first), and the whole opening
   of the sidebar (status, experiments, runs): KFP requests, wall time. The first page twice a
   round: as a sidebar asks it again (the KFP server answers what it answered last time), and right
   after a run on it was renamed on the server (an answer the jupyter server has not read before).
3. The KFP UI's runs page replayed (frontend/src/pages/RunList.tsx, kubeflow/pipelines master): its
   `ListRuns` (page_size 10, its default; also 50 and 100, sort_by "created_at desc", the
   storage_state NOT_EQUALS ARCHIVED filter of AllRunsList) then `ListExperiments` (no page size), one
   after the other as the page does; no per-run request (runs with an inline spec have no pipeline
   version to fetch). Wall time of the two requests, not the browser's rendering. Three ways: a new
   connection per request to the API server; one kept connection to it; and, as a browser showing
   the KFP UI does, one kept connection to the UI's own web server, which proxies them to the API
   server (bench/kfp_ui_server: express + http-proxy-middleware, as ml-pipeline-ui serves the UI's
   API calls; `npm ci --prefix bench/kfp_ui_server` once; `--no-ui-server` skips it).
4. An open sidebar left alone for 20 s (its timers replayed): KFP requests per second.
5. Polling: one live run view (`RunView`, as a kernel shows it) on a running run for 20 s, and the
   server extension's event stream for the same run for 20 s: GET runs/{id} requests per second.

Wall times and CPU times (this process: the client and the in-process stand-in; and the jupyter
server's process): the machine's load stretches the first, much less the second.

Run: python -m compileall -q jupyter_mlops && PYTHONPATH=$PWD:$PWD/tests python bench/bench_kfp.py
(`--pages-only --repeat N`: the page loads alone, N rounds)
"""

from __future__ import annotations

import gc
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

RUNS = 10_000
EXPERIMENTS = 5
REPEAT = 11


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(standin: Any, specs: dict[str, str]) -> None:
    from kfp_standin.cluster import RunRecord

    from jupyter_mlops.backends.kfp import KfpBackend

    backend = KfpBackend(host=standin.url)
    made = [backend.submit(specs["arith"], {"a": i}, experiment="exp-0").id for i in range(3)]
    for run_id in made:
        while not backend.get(run_id).state.terminal:
            time.sleep(0.2)
    experiments = [backend.experiment_book.id_of(f"exp-{i}", create=True) for i in range(EXPERIMENTS)]
    backend.close()
    cluster = standin.cluster
    templates = [cluster.record(r) for r in made]
    start = time.time() - RUNS
    with cluster.lock:
        for i in range(RUNS):
            t = templates[i % len(templates)]
            run_id = str(uuid.uuid4())
            cluster.runs[run_id] = RunRecord(
                run_id=run_id,
                experiment_id=str(experiments[i % EXPERIMENTS]),
                namespace=None,
                display_name=f"run-{i:05d}",
                pipeline_spec=t.pipeline_spec,
                runtime_config=t.runtime_config,
                created_at=start + i,
                attempts=list(t.attempts),
            )


SERVER_PIDS: list[int] = []  # the jupyter server's process, once started: its CPU is counted too


def server_cpu_ms() -> float:
    """CPU time so far of the jupyter server, from the scheduler's nanosecond counts of its threads
    (/proc/PID/task/*/schedstat; psutil's are 10 ms ticks)."""
    return sum(_process_cpu_ms(pid) for pid in SERVER_PIDS)


def _process_cpu_ms(pid: int) -> float:
    tasks = Path(f"/proc/{pid}/task")
    if tasks.is_dir():
        ns = 0
        for task in tasks.iterdir():
            try:
                ns += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):  # a thread that ended meanwhile
                pass
        return ns / 1e6
    import psutil  # not Linux: 10 ms ticks

    times = psutil.Process(pid).cpu_times()
    return (times.user + times.system) * 1000


def settle() -> None:
    """Wait for work a measurement left running in this process (the experiment names' file being
    written in a thread), so that its CPU time is counted."""
    from jupyter_mlops.backends.kfp import experiment_names

    for thread in list(getattr(experiment_names, "_pending", {}).values()):  # (none in older trees)
        thread.join()


def timed(fn: Any) -> tuple[float, float, Any]:
    """Wall ms, CPU ms, fn's value. CPU: of this process (the client and the in-process stand-in)
    until the work it left in threads is done, and of the jupyter server: a busy machine stretches
    wall times, not this (reading the server's counts is outside this process's window)."""
    gc.collect()  # the garbage an earlier measurement left is collected before, not in, this one
    s0 = server_cpu_ms()
    c0 = time.process_time()
    t0 = time.perf_counter()
    value = fn()
    wall = (time.perf_counter() - t0) * 1000
    settle()
    cpu = (time.process_time() - c0) * 1000
    return wall, cpu + server_cpu_ms() - s0, value


def requests_during(standin: Any, fn: Any) -> tuple[float, list[str], float]:
    """Wall ms, the KFP requests made, CPU ms."""
    before = len(standin.requests)
    ms, cpu, _ = timed(fn)
    return ms, standin.requests[before:], cpu


def pipeline_runs_once(standin: Any, *, cold: bool = True) -> tuple[float, int, float]:
    from jupyter_mlops.backends.kfp import KfpBackend
    from jupyter_mlops.widgets import runs_table

    if cold:  # the first kernel on its machine: no experiment names kept by an earlier one
        from jupyter_mlops.backends.kfp.connection import resolve
        from jupyter_mlops.backends.kfp.experiment_names import names_file

        names_file(resolve(standin.url, None, None, None, None, None)).unlink(missing_ok=True)
    backend = KfpBackend(host=standin.url)  # a new kernel's backend
    ms, asked, cpu = requests_during(standin, lambda: runs_table(backend, limit=50))
    backend.close()
    return ms, len(asked), cpu


def changed_on_the_server(standin: Any) -> None:
    """Rename the newest run on the stand-in (as a user may in the KFP UI): the next answer to the first
    page differs from the last, so whatever the server kept of the last answer is of no use."""
    cluster = standin.cluster
    with cluster.lock:
        newest = max(cluster.runs.values(), key=lambda r: (r.created_at, r.run_id))
        newest.display_name = f"renamed-{time.monotonic_ns()}"


def kfp_ui_page_once(standin: Any, page_size: int) -> tuple[float, int, float]:
    flt = {"predicates": [{"key": "storage_state", "operation": "NOT_EQUALS", "string_value": "ARCHIVED"}]}
    query = urllib.parse.urlencode(
        {"page_size": page_size, "sort_by": "created_at desc", "filter": json.dumps(flt)}
    )

    def load() -> None:
        for path in (f"/apis/v2beta1/runs?{query}", "/apis/v2beta1/experiments"):
            with urllib.request.urlopen(standin.url + path, timeout=60) as r:
                json.loads(r.read())

    ms, asked, cpu = requests_during(standin, load)
    return ms, len(asked), cpu


class KeptConnection:
    """A browser's connection to the KFP UI's origin: opened once (loading the page itself), kept alive
    for the page's API requests (HTTP/1.1 keep-alive; through a gateway often HTTP/2)."""

    def __init__(self, url: str) -> None:
        import http.client

        parts = urllib.parse.urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)

    def get(self, path: str) -> bytes:
        self.connection.request("GET", path, headers={"Accept": "application/json"})
        with self.connection.getresponse() as response:
            return bytes(response.read())


def kfp_ui_page_kept_once(standin: Any, page_size: int, kept: KeptConnection) -> tuple[float, int, float]:
    """The same two requests as `kfp_ui_page_once`, on one connection kept open between page loads, as
    the browser showing the KFP UI keeps its connection to the UI's server (the replay above opens a
    new connection per request: the stand-in then accepts a connection and starts a thread for each)."""
    flt = {"predicates": [{"key": "storage_state", "operation": "NOT_EQUALS", "string_value": "ARCHIVED"}]}
    query = urllib.parse.urlencode(
        {"page_size": page_size, "sort_by": "created_at desc", "filter": json.dumps(flt)}
    )

    def load() -> None:
        for path in (f"/apis/v2beta1/runs?{query}", "/apis/v2beta1/experiments"):
            json.loads(kept.get(path))

    ms, asked, cpu = requests_during(standin, load)
    return ms, len(asked), cpu


class KfpUiServer:
    """The KFP UI's web server on the path of its API calls (bench/kfp_ui_server/server.mjs: express and
    http-proxy-middleware, the versions kubeflow/pipelines frontend/server pins, wired as that server
    wires them): in a browser the runs page's ListRuns and ListExperiments go through it to the API
    server. Its process's CPU is counted like the jupyter server's. Needs `npm ci --prefix
    bench/kfp_ui_server` once (Node.js and the npm registry)."""

    FOLDER = ROOT / "bench" / "kfp_ui_server"

    def __init__(self, base: Path, api_url: str) -> None:
        if not (self.FOLDER / "node_modules").is_dir():
            raise RuntimeError(f"install the KFP UI server's packages first: npm ci --prefix {self.FOLDER}")
        port_file = base / "ui-server.port"
        self.log = (base / "ui-server.log").open("wb")
        self.process = subprocess.Popen(
            ["node", str(self.FOLDER / "server.mjs"), api_url, str(port_file)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the KFP UI server did not start; see {base / 'ui-server.log'}")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text().strip()}"

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def summary(samples: list[tuple[float, int, float]], rows: int) -> dict[str, Any]:
    return {
        "median_ms": round(statistics.median(ms for ms, _, _ in samples), 1),
        "median_cpu_ms": round(statistics.median(cpu for _, _, cpu in samples), 1),
        "kfp_requests": max(n for _, n, _ in samples),
        "kfp_requests_median": statistics.median(n for _, n, _ in samples),
        "rows": rows,
    }


class JupyterServer:
    def __init__(self, base: Path, kfp_url: str) -> None:
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        (base / "root").mkdir(parents=True)
        config = base / "config.json"
        config.write_text(
            json.dumps({"MlopsExtensionApp": {"backend": "kfp", "backend_options": {"host": kfp_url}}})
        )
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
                f"--config={config}",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                self.get("api/status")
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"server did not start; see {base / 'server.log'}") from None
                time.sleep(0.2)

    def get(self, path: str) -> bytes:
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return bytes(response.read())

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def page_loads(
    standin: Any, server: JupyterServer, repeat: int = REPEAT, ui: KfpUiServer | None = None
) -> dict[str, Any]:
    """Each measurement once per round, the rounds one after the other: a busy machine slows all alike.
    `ui`: the KFP UI's web server, to replay the page also as a browser loads it, through that server."""
    server.get("mlops/api/status")  # the server makes its backend on first use
    pipeline_runs_once(standin)  # imports (widgets) are a kernel's first use, not the table's
    samples: dict[str, list[tuple[float, int, float]]] = {}
    kept = KeptConnection(standin.url)  # the browser's connection, opened with the page itself
    kept.get("/apis/v2beta1/healthz")
    through = KeptConnection(ui.url) if ui is not None else None  # the browser's, to the UI's server
    if through is not None:
        for _ in range(3):  # its first requests warm Node's compiler, as the page's own loading did
            kfp_ui_page_kept_once(standin, 50, through)

    def opening() -> None:
        for path in ("mlops/api/status", "mlops/api/experiments", "mlops/api/runs?offset=0&limit=100"):
            server.get(path)

    for _ in range(repeat):
        samples.setdefault("pipeline_runs_50", []).append(pipeline_runs_once(standin))
        samples.setdefault("pipeline_runs_50_warm", []).append(pipeline_runs_once(standin, cold=False))
        for size in (10, 50, 100):
            samples.setdefault(f"kfp_ui_{size}", []).append(kfp_ui_page_once(standin, size))
        for size in (50, 100):
            samples.setdefault(f"kfp_ui_kept_{size}", []).append(kfp_ui_page_kept_once(standin, size, kept))
            if through is not None:
                samples.setdefault(f"kfp_ui_server_{size}", []).append(
                    kfp_ui_page_kept_once(standin, size, through)
                )
        ms, asked, cpu = requests_during(standin, lambda: server.get("mlops/api/runs?offset=0&limit=100"))
        samples.setdefault("sidebar_first_page_100", []).append((ms, len(asked), cpu))
        changed_on_the_server(standin)  # the same page again, now with an answer it has not read yet
        ms, asked, cpu = requests_during(standin, lambda: server.get("mlops/api/runs?offset=0&limit=100"))
        samples.setdefault("sidebar_first_page_100_changed", []).append((ms, len(asked), cpu))
        ms, asked, cpu = requests_during(standin, opening)
        samples.setdefault("sidebar_opening", []).append((ms, len(asked), cpu))

    def ratio(ours: str, theirs: str, *, cpu: bool = False) -> float:
        """Median over rounds of ours / the KFP UI's in the same round (robust to a busy machine);
        `cpu`: of their CPU times (this process, the stand-in in it, and the jupyter server's)."""
        pairs = zip(samples[ours], samples[theirs], strict=True)
        return round(statistics.median((a[2] / b[2]) if cpu else (a[0] / b[0]) for a, b in pairs), 2)

    pairs = [
        ("pipeline_runs / kfp_ui (50 rows)", "pipeline_runs_50", "kfp_ui_50"),
        ("pipeline_runs warm / kfp_ui (50 rows)", "pipeline_runs_50_warm", "kfp_ui_50"),
        ("sidebar_first_page / kfp_ui (100 rows)", "sidebar_first_page_100", "kfp_ui_100"),
        ("sidebar_first_page changed / kfp_ui (100 rows)", "sidebar_first_page_100_changed", "kfp_ui_100"),
    ]
    kept_pairs = [(f"{label}, UI on a kept connection", ours, theirs.replace("kfp_ui_", "kfp_ui_kept_"))
                  for label, ours, theirs in pairs]  # fmt: skip
    if through is not None:
        served = "kfp_ui_server_"
        kept_pairs += [(f"{label}, UI through its web server", ours, theirs.replace("kfp_ui_", served))
                       for label, ours, theirs in pairs]  # fmt: skip
    return {
        **{f"ratio {label}": ratio(ours, theirs) for label, ours, theirs in pairs},
        **{f"cpu ratio {label}": ratio(ours, theirs, cpu=True) for label, ours, theirs in pairs},
        **{f"ratio {label}": ratio(ours, theirs) for label, ours, theirs in kept_pairs},
        **{f"cpu ratio {label}": ratio(ours, theirs, cpu=True) for label, ours, theirs in kept_pairs},
        "pipeline_runs (50 rows, in the kernel)": summary(samples["pipeline_runs_50"], 50),
        "pipeline_runs warm (50 rows, a later kernel)": summary(samples["pipeline_runs_50_warm"], 50),
        "kfp_ui_runs_page": {n: summary(samples[f"kfp_ui_{n}"], n) for n in (10, 50, 100)},
        "kfp_ui_runs_page on a kept connection": {
            n: summary(samples[f"kfp_ui_kept_{n}"], n) for n in (50, 100)
        },
        **(
            {
                "kfp_ui_runs_page through its web server": {
                    n: summary(samples[f"kfp_ui_server_{n}"], n) for n in (50, 100)
                }
            }
            if through is not None
            else {}
        ),
        "sidebar_first_page (100 rows, through jupyter server)": summary(
            samples["sidebar_first_page_100"], 100
        ),
        "sidebar_first_page, a run on it changed since (100 rows, through jupyter server)": summary(
            samples["sidebar_first_page_100_changed"], 100
        ),
        "sidebar_opening (status + experiments + first page)": summary(samples["sidebar_opening"], 100),
    }


def idle_sidebar(standin: Any, server: JupyterServer, seconds: float = 20.0) -> dict[str, Any]:
    """An open sidebar left alone, as sidebar.ts asks: every 2 s the experiments and the first page of
    runs, every 10 s the status (replayed with its paths and intervals)."""
    before = len(standin.requests)
    start = time.monotonic()
    tick = 0
    while time.monotonic() - start < seconds:
        server.get("mlops/api/experiments")
        server.get("mlops/api/runs?offset=0&limit=100")
        if tick % 5 == 0:
            server.get("mlops/api/status")
        tick += 1
        time.sleep(max(0.0, start + tick * 2.0 - time.monotonic()))
    return {"kfp_requests_per_s": round((len(standin.requests) - before) / seconds, 2), "seconds": seconds}


def polling(
    standin: Any, specs: dict[str, str], server: JupyterServer, seconds: float = 20.0
) -> dict[str, Any]:
    import threading

    from jupyter_mlops.backends.kfp import KfpBackend
    from jupyter_mlops.widgets.run_widget import RunView

    backend = KfpBackend(host=standin.url)
    run_id = backend.submit(specs["sleepy"], {"seconds": 120}).id
    path = f"GET /apis/v2beta1/runs/{run_id}"
    view = RunView(backend, run_id, live=True)
    before = sum(1 for r in standin.requests if r == path)
    time.sleep(seconds)
    view_rate = (sum(1 for r in standin.requests if r == path) - before) / seconds
    view.close()

    stream = threading.Thread(
        target=lambda: _read_quietly(server, f"mlops/api/runs/{run_id}/events"), daemon=True
    )
    before = sum(1 for r in standin.requests if r == path)
    stream.start()
    time.sleep(seconds)
    stream_rate = (sum(1 for r in standin.requests if r == path) - before) / seconds
    backend.cancel(run_id)
    backend.close()
    return {
        "run_view_requests_per_s": round(view_rate, 3),
        "sidebar_event_stream_requests_per_s": round(stream_rate, 3),
        "seconds": seconds,
    }


def _read_quietly(server: JupyterServer, path: str) -> None:
    try:
        server.get(path)
    except Exception:  # the stream is cut when the bench cancels the run and stops the servers
        pass


def main() -> int:
    import argparse

    from backends import pipelines
    from kfp_standin import StandIn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=REPEAT, help="rounds of the page loads")
    parser.add_argument(
        "--pages-only", action="store_true", help="the page loads alone (no idle sidebar, no polling)"
    )
    parser.add_argument(
        "--no-ui-server",
        action="store_true",
        help="skip the replay through the KFP UI's web server (bench/kfp_ui_server, needs npm ci there)",
    )
    args = parser.parse_args()

    specs = {name: pipelines.compiled(pipelines.ALL[name]) for name in ("arith", "sleepy")}
    with tempfile.TemporaryDirectory(prefix="bench-kfp-") as tmp:
        base = Path(tmp)
        os.environ["JUPYTER_MLOPS_HOME"] = str(base / "mlops-home")
        standin = StandIn(base / "standin")
        standin.start()
        server = None
        ui: KfpUiServer | None = None
        try:
            seed(standin, specs)
            result: dict[str, Any] = {"runs_on_server": len(standin.cluster.runs), "load": os.getloadavg()}
            server = JupyterServer(base / "jupyter", standin.url)
            SERVER_PIDS.append(server.process.pid)
            if args.no_ui_server:
                pass
            elif not (KfpUiServer.FOLDER / "node_modules").is_dir():
                print(
                    f"(no replay through the KFP UI's server: npm ci --prefix {KfpUiServer.FOLDER})",
                    file=sys.stderr,
                )
            else:
                ui = KfpUiServer(base, standin.url)
                SERVER_PIDS.append(ui.process.pid)
            result["page_loads"] = page_loads(standin, server, args.repeat, ui)
            if not args.pages_only:
                result["idle_sidebar"] = idle_sidebar(standin, server)
                result["polling"] = polling(standin, specs, server)
            result["load_after"] = os.getloadavg()
        finally:
            if server is not None:
                server.stop()
            if ui is not None:
                ui.stop()
            standin.stop()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

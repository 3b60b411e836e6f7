"""TensorBoard through the server extension's proxy against `%tensorboard` (tensorboard.notebook), in
the same run, from the user's side.

Starts a real `jupyter server` with jupyter-mlops on 127.0.0.1, writes a 10,000 x 128 embedding with
labels with `mlops.log_embedding`, then for each of --repeat rounds (a fresh logdir path each round, so
neither side can reuse a TensorBoard from an earlier round):

- start: ours = `POST mlops/api/tensorboards` + GET of the projector page through the proxy until its
  first byte (the server starts TensorBoard on that request); the peer = `tensorboard.manager.start`
  (what `%tensorboard --logdir ...` calls) + GET of the page from TensorBoard directly until its first
  byte. Target: ours <= the peer + 0.2 s.
- reused: the page again through the proxy, an already running instance (target <= 50 ms), and the
  peer's page directly.
- projector data: the tensor (10,000 x 128) and metadata requests the projector makes, through the
  proxy and directly to the peer's TensorBoard (first load, then again). Target: ours no slower.

    python bench/bench_tensorboard.py [--repeat 5] [--points 10000] [--dims 128]

Both sides run TensorBoard with its defaults except that ours passes `--load_fast false` (it never
starts TensorBoard's separate data server process).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def first_byte(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[float, int]:
    """Seconds until the first byte of the body arrives, and the status."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.read(1)
    elapsed = time.perf_counter() - start
    response.read()
    connection.close()
    return elapsed, response.status


def whole(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[float, int]:
    """Seconds until the whole body has arrived, and its size."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200, (path, response.status, body[:300])
    connection.close()
    return time.perf_counter() - start, len(body)


class Server:
    def __init__(self, base: Path) -> None:
        self.port, self.token = free_port(), secrets.token_hex(16)
        (base / "root").mkdir()
        env = dict(
            os.environ,
            JUPYTER_MLOPS_HOME=str(base / "home"),
            JUPYTER_RUNTIME_DIR=str(base / "rt"),
            JUPYTER_MLOPS_TENSORBOARD_DIR=str(base / "registry"),
        )
        self.log = (base / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
             f"--ServerApp.root_dir={base / 'root'}",
             f"--IdentityProvider.token={self.token}", "--ServerApp.log_level=WARN",
             "--ServerApp.jpserver_extensions={'jupyter_mlops': True}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                whole(self.port, "/api/status", self.auth)
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"server did not start; see {base / 'server.log'}") from None
                time.sleep(0.2)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        data = None if body is None else json.dumps(body)
        connection.request(method, path, body=data, headers=self.auth)
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        return answer

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--dims", type=int, default=128)
    args = parser.parse_args()

    import numpy as np
    from tensorboard import manager

    import jupyter_mlops as mlops

    base = Path(tempfile.mkdtemp(prefix="bench-tb-"))
    data = base / "data"
    vectors = np.random.default_rng(0).normal(size=(args.points, args.dims)).astype("float32")
    mlops.log_embedding(vectors, [f"point {i}" for i in range(args.points)], logdir=data / "run")
    server = Server(base)
    name = urllib.parse.quote("embedding:00000")
    tensor_path = f"data/plugin/projector/tensor?run=run&name={name}"
    metadata_path = f"data/plugin/projector/metadata?run=run&name={name}&num_rows=100000"
    rows: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)

    try:
        for round_ in range(args.repeat):
            ours_dir, peer_dir = base / f"ours-{round_}", base / f"peer-{round_}"
            ours_dir.symlink_to(data, target_is_directory=True)
            peer_dir.symlink_to(data, target_is_directory=True)

            start = time.perf_counter()
            url = server.call("POST", "/mlops/api/tensorboards", {"logdir": str(ours_dir)})["url"]
            _, status = first_byte(server.port, url, server.auth)
            assert status == 200, status
            add("start: ours, proxy (register + first byte)", time.perf_counter() - start)

            start = time.perf_counter()
            launched = manager.start(["--logdir", str(peer_dir)], timeout=datetime.timedelta(minutes=2))
            assert isinstance(launched, manager.StartLaunched), launched
            peer_port = launched.info.port
            _, status = first_byte(peer_port, "/")
            assert status == 200, status
            add("start: %tensorboard (manager.start + first byte)", time.perf_counter() - start)

            for _ in range(10):
                add("reused page: ours, proxy", first_byte(server.port, url, server.auth)[0])
                add("reused page: %tensorboard, direct", first_byte(peer_port, "/")[0])

            for label, port, prefix, headers in (
                ("ours, proxy", server.port, url, server.auth),
                ("%tensorboard, direct", peer_port, "/", {}),
            ):
                add(f"projector tensor, first load: {label}", whole(port, prefix + tensor_path, headers)[0])
                add(
                    f"projector metadata, first load: {label}",
                    whole(port, prefix + metadata_path, headers)[0],
                )
                add(f"projector tensor, again: {label}", whole(port, prefix + tensor_path, headers)[0])

            os.kill(launched.info.pid, signal.SIGTERM)
            tb_id = url.rstrip("/").rsplit("/", 1)[1]
            server.call("DELETE", f"/mlops/api/tensorboards/{tb_id}")
    finally:
        server.stop()

    print(f"{args.points} x {args.dims} embedding, {args.repeat} rounds; medians in ms")
    print("| case | median ms | min ms |")
    print("|---|---:|---:|")
    for key, values in rows.items():
        print(f"| {key} | {median_ms(values)} | {min(values) * 1000:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

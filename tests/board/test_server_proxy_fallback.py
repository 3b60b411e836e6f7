"""In a Jupyter without our server extension but with jupyter-server-proxy (a Kaggle-like setup), the
kernel starts TensorBoard itself and shows it at `<base url>proxy/<port>/`: a real `jupyter server`,
a real kernel it started, and TensorBoard's pages through jupyter-server-proxy."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("jupyter_server_proxy")

from jupyter_client.blocking import BlockingKernelClient

import jupyter_mlops as mlops


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, response.read()


@pytest.mark.timeout(300)
def test_without_our_extension_jupyter_server_proxy_shows_it(tmp_path: Path) -> None:
    logdir = mlops.log_embedding([[1.0, 2.0], [3.0, 4.0]], ["a", "b"], logdir=tmp_path / "logs" / "run")
    port, token = free_port(), secrets.token_hex(16)
    runtime = tmp_path / "runtime"
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_MLOPS_TENSORBOARD_DIR": str(tmp_path / "reg"),
    }
    extensions = "{'jupyter_server_proxy': True, 'jupyter_mlops': False}"
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
         f"--ServerApp.jpserver_extensions={extensions}", "--ServerApp.base_url=/user/ana/"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/user/ana/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get(base + "api/status", token)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "jupyter server did not start"
                time.sleep(0.3)
        request = urllib.request.Request(
            base + "api/kernels", data=b"{}", method="POST", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            kernel_id = json.loads(response.read())["id"]
        client = BlockingKernelClient(connection_file=str(runtime / f"kernel-{kernel_id}.json"))
        client.load_connection_file()
        client.start_channels()
        shown: list[str] = []

        def keep(message: dict[str, object]) -> None:
            content = message["content"]
            if message["msg_type"] == "execute_result" and isinstance(content, dict):
                shown.append(content["data"]["text/html"])

        code = f"import jupyter_mlops as mlops\nmlops.tensorboard({str(Path(logdir).parent)!r})"
        reply = client.execute_interactive(code, output_hook=keep, timeout=180)
        client.stop_channels()
        assert reply["content"]["status"] == "ok", reply["content"]
        [html] = shown
        src = html.split("<iframe src='", 1)[1].split("'", 1)[0]
        assert src.startswith("/user/ana/proxy/") and src.endswith("/")
        status, body = get(f"http://127.0.0.1:{port}{src}data/plugin/projector/runs", token)
        assert status == 200 and json.loads(body) == ["run"]
        status, page = get(f"http://127.0.0.1:{port}{src}", token)
        assert status == 200 and b"<title>TensorBoard</title>" in page
    finally:
        server.terminate()
        server.wait(30)

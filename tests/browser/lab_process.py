"""A real `jupyter lab` server in a child process, isolated from the user's own Jupyter setup.

Everything it writes goes under one temporary directory: notebooks (root dir), Jupyter config,
runtime files, JupyterLab settings and workspaces, and jupyter-mlops runs (`JUPYTER_MLOPS_HOME`).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# JupyterLab's announcements pop-up would cover the notebook; the plugin is off in every browser test.
DISABLED_PLUGINS = ["@jupyterlab/apputils-extension:announcements"]

# How long a cold start may take on a loaded 2-core machine before the harness gives up.
# Not a performance expectation: JupyterLab usually answers in ~4 s.
STARTUP_LIMIT_SECONDS = 180.0
SHUTDOWN_LIMIT_SECONDS = 20.0


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LabServer:
    """A running JupyterLab; `url` ends with `/` and every request needs `token`."""

    base_dir: Path
    port: int = field(default_factory=free_loopback_port)
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def root_dir(self) -> Path:
        """Where notebooks live: the file browser's top folder."""
        return self.base_dir / "root"

    @property
    def mlops_home(self) -> Path:
        """Where the local backend keeps runs for this server."""
        return self.base_dir / "mlops-home"

    @property
    def config_dir(self) -> Path:
        return self.base_dir / "config"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "jupyter-lab.log"

    def lab_url(self, workspace: str) -> str:
        """JupyterLab in its own workspace, so one test's open panels do not leak into the next."""
        return f"{self.url}lab/workspaces/{workspace}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """Call the server's REST API (e.g. `mlops/api/status`) with the token; returns the JSON."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path.lstrip("/"),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.config_dir),
            JUPYTER_RUNTIME_DIR=str(self.base_dir / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(self.base_dir / "lab-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.base_dir / "lab-workspaces"),
            JUPYTER_MLOPS_HOME=str(self.mlops_home),
            # Kernels draw plots without a display, and ipykernel's debugger does not warn about
            # frozen modules into every test's output.
            MPLBACKEND="Agg",
            PYDEVD_DISABLE_FILE_VALIDATION="1",
        )
        return env

    def start(self) -> None:
        for folder in (self.root_dir, self.mlops_home, self.config_dir / "labconfig"):
            folder.mkdir(parents=True, exist_ok=True)
        page_config = {"disabledExtensions": {plugin: True for plugin in DISABLED_PLUGINS}}
        (self.config_dir / "labconfig" / "page_config.json").write_text(json.dumps(page_config))

        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.allow_unauthenticated_access=False",
            # No calls to the internet from a test.
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.root_dir,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with code {self.process.returncode} before answering; "
                    f"its log:\n{self.log_tail()}"
                )
            try:
                self.api("api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(
            f"jupyter lab did not answer /api/status within {STARTUP_LIMIT_SECONDS:.0f} s; "
            f"its log:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM (jupyter-server shuts its kernels down on it), then SIGKILL if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(SHUTDOWN_LIMIT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

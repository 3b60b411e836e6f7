"""The README's two commands on a fresh machine, as written: a clean copy of the checkout (no .venv,
no built extension), a fresh HOME and the system's `python3` first on PATH (Debian's here, as on a
user's Debian machine); then what they say to do next works.

Slow (a fresh venv, npm building the JupyterLab extension): about a minute per script here.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.newcomer.fresh_checkout import clean_copy, newcomer_env
from tests.newcomer.readme_blocks import commands, readme_blocks
from tests.newcomer.venvs import base_python

SYSTEM_PYTHON = Path("/usr/bin/python3")
pytestmark = pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no system python3 (/usr/bin/python3)")


def top_commands() -> list[str]:
    first = readme_blocks()[0]
    assert first.lang == "bash", first.where()
    return commands(first)


def run_script(command: str, cwd: Path, env: dict[str, str], timeout: float = 1200) -> str:
    proc = subprocess.run(
        command,
        shell=True,
        executable="/bin/bash",
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"`{command}` failed ({proc.returncode}):\n{out[-6000:]}"
    return out


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A clean checkout on which the README's first command (the main job) has run."""
    base = tmp_path_factory.mktemp("fresh")
    checkout = clean_copy(base / "jupyter-mlops")
    env = newcomer_env(base / "home")
    demo = top_commands()[0]
    assert demo == "bash scripts/demo.sh", demo
    out = run_script(demo, checkout, env)
    return {"checkout": checkout, "env": env, "demo_output": out}


def test_the_main_job_sets_up_a_venv_of_the_system_python_and_shows_the_run(machine: dict[str, Any]) -> None:
    out = machine["demo_output"]
    checkout: Path = machine["checkout"]

    assert f"made with {SYSTEM_PYTHON}" in out or "made with /usr/bin/python3" in out, out[:2000]
    assert (checkout / ".venv" / "bin" / "jupyter-mlops").exists()
    assert (checkout / "jupyter_mlops" / "labextension" / "package.json").exists()  # npm built it
    assert "SUCCEEDED, 6/6 steps done" in out
    assert "parameters: epochs=60" in out and "DAG (stages run" in out and "[✓ evaluate]" in out
    assert re.search(r"evaluate +result: .*\n +metrics: accuracy=", out), out[-3000:]
    # Timings of each phase (BENCHMARKS.md): the script prints them.
    print("\n".join(line for line in out.splitlines() if line.startswith("== [")))


def test_what_the_main_job_says_to_do_next_works(machine: dict[str, Any]) -> None:
    out = machine["demo_output"]
    checkout, env = machine["checkout"], machine["env"]

    assert "source .venv/bin/activate" in out
    runs = run_script("source .venv/bin/activate && jupyter-mlops runs", checkout, env)
    assert re.search(r"SUCCEEDED .* demo-", runs), runs
    listed = run_script(".venv/bin/jupyter labextension list", checkout, env)
    assert re.search(r"jupyter-mlops v[\d.]+ enabled\s+OK", re.sub(r"\x1b\[[0-9;]*m", "", listed)), listed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def open_in_lab(
    command: list[str], notebook: str, machine: dict[str, Any], tmp_path: Path, lab_args: list[str]
) -> None:
    """Run `command` (which starts JupyterLab) on the fresh machine, with a browser that records what it
    is asked to open; JupyterLab must open `notebook`, be the checkout's .venv's, and have the run the
    demo made in the server extension's API."""
    checkout, env = machine["checkout"], dict(machine["env"])
    port = _free_port()
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"  # stands in for the user's browser: records what it was asked to open
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    env["BROWSER"] = str(browser)
    options = [
        "--allow-root",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=newcomer",
    ]
    if lab_args:
        env["JUPYTER_MLOPS_LAB_ARGS"] = " ".join(options)
    else:
        command = [*command, *options]
    log = tmp_path / "lab.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, cwd=checkout, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 600
        while not opened.exists():
            assert proc.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.5)
        target = opened.read_text().split()[0]
        if target.startswith("file://"):  # Jupyter's redirect page, which sends the browser on to lab
            target = re.search(r'href="([^"]+)"', Path(target[len("file://") :]).read_text()).group(1)  # type: ignore[union-attr]
        assert re.match(rf"http://(localhost|127\.0\.0\.1):{port}/lab/tree/{re.escape(notebook)}", target), (
            target
        )
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/lab/tree/{notebook}?token=newcomer", timeout=60
        ) as page:
            assert page.status == 200
        contents = f"http://127.0.0.1:{port}/api/contents/{notebook}?token=newcomer"
        with urllib.request.urlopen(contents, timeout=60) as answer:  # the notebook itself, as it opens
            cells = json.load(answer)["content"]["cells"]
        assert "**What it shows:**" in cells[0]["source"], cells[0]
        # The server is the checkout's .venv's, with the run the demo made in its sidebar's API.
        assert f"{checkout}/.venv/bin/" in Path(f"/proc/{proc.pid}/cmdline").read_text().replace("\0", " ")
        api = f"http://127.0.0.1:{port}/mlops/api/runs?token=newcomer"
        with urllib.request.urlopen(api, timeout=60) as answer:
            body = answer.read().decode()
        assert '"SUCCEEDED"' in body and "demo-" in body, body[:2000]
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)


def test_demo_open_opens_the_demo_notebook_in_jupyterlab_with_the_run(
    machine: dict[str, Any], tmp_path: Path
) -> None:
    open_in_lab(
        ["bash", "scripts/demo.sh", "--open"], "examples/demo.ipynb", machine, tmp_path, lab_args=True
    )


def test_the_printed_jupyter_lab_line_opens_the_quickstart(machine: dict[str, Any], tmp_path: Path) -> None:
    """The line the scripts end with, `.venv/bin/jupyter lab examples/quickstart.ipynb`, as printed.
    (Given a notebook, JupyterLab serves the notebook's folder: examples/ is its root.)"""
    (line,) = [ln for ln in machine["demo_output"].splitlines() if "jupyter lab examples/" in ln]
    command = line.split("#")[0].split()
    assert command == [".venv/bin/jupyter", "lab", "examples/quickstart.ipynb"], line
    open_in_lab(command, "quickstart.ipynb", machine, tmp_path, lab_args=False)


def test_the_test_command_sets_up_and_runs_pytest(machine: dict[str, Any]) -> None:
    """The README's second command on the same machine, given one test file (its set-up part is the
    point here: the test extra into .venv; CI runs the whole command on a clean clone)."""
    checkout, env = machine["checkout"], machine["env"]
    second = top_commands()[1]
    assert second == "bash scripts/test.sh", second

    out = run_script(f"{second} tests/test_packaging.py -p no:cacheprovider", checkout, env)

    assert "4 passed" in out, out[-3000:]
    assert "done, pytest exit code 0" in out and "source .venv/bin/activate" in out
    # pytest ran on the checkout's .venv, made with the system's python3, not on this test's Python.
    system = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert re.search(rf"platform linux -- Python {re.escape(system)}, .*\n(cachedir|rootdir)", out), out[
        :3000
    ]
    assert f"rootdir: {checkout}" in out


def test_the_main_job_with_another_python3_first_on_path(tmp_path: Path) -> None:
    """A python3 that is not the system's (pyenv's, a conda base: not EXTERNALLY-MANAGED) gets the same
    .venv, and nothing is installed into that Python."""
    other = Path(base_python()).resolve()
    if str(other).startswith("/usr/"):
        pytest.skip(f"this machine's Python is the system's ({other})")
    bin_dir = tmp_path / "bin"  # where `python3` is this other Python, as pyenv's shims or conda's bin do
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(other)
    checkout = clean_copy(tmp_path / "jupyter-mlops")
    env = newcomer_env(tmp_path / "home", first_on_path=str(bin_dir))
    where = [
        other,
        "-c",
        "import importlib.metadata as m; print(m.distribution('jupyter-mlops').read_text('direct_url.json'))",
    ]
    before = subprocess.run(where, capture_output=True, text=True, env=env).stdout

    out = run_script(top_commands()[0], checkout, env)

    assert f"made with {bin_dir / 'python3'}" in out, out[:2000]
    assert "SUCCEEDED, 6/6 steps done" in out and "source .venv/bin/activate" in out
    # Not installed into that Python (whatever it had of jupyter-mlops, if anything, is as it was).
    assert subprocess.run(where, capture_output=True, text=True, env=env).stdout == before

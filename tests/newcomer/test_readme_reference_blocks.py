"""The README's reference blocks, line by line as cells of a real kernel: "Results, not file paths" on a
run whose `load` step made `x`, whose `plot` step drew a figure and whose `train` step failed; the kfp
block against the stand-in KFP server (tests/kfp_standin) through the unmodified kfp.Client; the
TensorBoard block as one cell of a plain kernel (no Jupyter server: the output says what to run instead,
and TensorBoard started that way serves the four labelled points; tests/browser/test_tensorboard_inline.py
shows the same points inline through the server extension's proxy).

Placeholders are filled as a reader would: RUN and the example run id become the run the notebook made,
`http://localhost:8080` the stand-in's address, and `[--namespace my-profile]` (optional) is left off.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kfp_standin import StandIn

from tests.kernel.kernel_notebooks import KernelSession
from tests.newcomer.readme_blocks import Block, readme_blocks

RESULTS = "Results, not file paths"
KFP = "On a Kubeflow Pipelines server (`kfp` backend)"


def block_lines(block: Block) -> list[str]:
    """The block's statements, each without its trailing comment; comment-only lines left off."""
    lines = []
    for line in block.text.splitlines():
        code = re.split(r"\s{2,}#", line, maxsplit=1)[0].strip()
        if code and not code.startswith("#"):
            lines.append(code)
    return lines


def the_block(section: str) -> Block:
    (block,) = [b for b in readme_blocks() if b.section == section and b.lang == "python"]
    return block


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[KernelSession]:
    session = KernelSession(tmp_path, env={"JUPYTER_MLOPS_HOME": str(tmp_path / "home"), "MPLBACKEND": "Agg"})
    try:
        yield session
    finally:
        session.close()


def run_ok(kernel: KernelSession, code: str) -> str:
    reply, shown = kernel.run(code)
    assert reply["status"] == "ok", f"{code!r} failed:\n{shown}"
    return shown


RESULTS_CELLS = [
    "%load_ext jupyter_mlops",
    "import jupyter_mlops as mlops",
    "%%component load\nimport numpy as np\nx = np.arange(12.0).reshape(4, 3)\ny = np.array([0, 1, 1, 0])",
    "%%component plot\nimport matplotlib.pyplot as plt\nplt.plot(x[:, 0], x[:, 1])\nplt.show()",
    "%%component train --define-only\nw = x.T @ y\nraise ValueError(f'diverged at w={w.tolist()}')",
]


def test_the_results_block_runs_on_a_run_with_a_failed_step(kernel: KernelSession) -> None:
    for cell in RESULTS_CELLS:
        run_ok(kernel, cell)
    shown = run_ok(kernel, "run = %pipeline run --wait\nprint('ended:', run.state.value, run.name)")
    state, name = shown.split("ended: ")[-1].split()
    assert state == "FAILED", shown
    run_ok(kernel, "x = y = None")  # the kernel's own values go: what comes back comes from the run

    shown_by: dict[str, str] = {}
    for line in block_lines(the_block(RESULTS)):
        code = re.sub(r'"demo-\d{8}-\d{6}"', repr(name), line.replace(" RUN ", f" {name} "))
        shown_by[line] = run_ok(kernel, code)
    by_start = {line.split("(")[0].split(" ")[0]: text for line, text in shown_by.items()}

    assert "array([[ 0.,  1.,  2.]" in by_start['run.outputs["load"]["x"]'], shown_by
    assert by_start["run.artifact_path"].strip().endswith("/artifacts/load/x/value.npy')"), shown_by
    assert by_start["run.figures"].strip() == "<IPython.core.display.Image object>", shown_by  # the plot
    assert f"Run {name} (" in by_start["mlops.get_run"] and "plot   SUCCEEDED" in by_start["mlops.get_run"]
    load = next(text for line, text in shown_by.items() if line.startswith("%pipeline load"))
    assert "x (numpy.ndarray (4, 3))" in load and "y (numpy.ndarray (4,))" in load, load
    assert kernel.value("(float(x.sum()), y.tolist())") == "(66.0, [0, 1, 1, 0])"
    debug = next(text for line, text in shown_by.items() if line.startswith("%pipeline debug"))
    assert "Step 'train' of run" in debug and "FAILED" in debug and "ValueError" in debug, debug
    # The failed step's inputs are in the notebook, as it received them; its code fails the same way.
    code = debug.split("next cell holds it):\n\n", 1)[1]
    reply, shown = kernel.run(code)
    assert reply["status"] == "error" and "diverged at w=[9.0, 11.0, 13.0]" in shown, shown


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path / "kfp")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_kfp_block_runs_against_the_standin_server(kernel: KernelSession, standin: StandIn) -> None:
    for cell in [
        "%load_ext jupyter_mlops",
        "%pipeline new on-kfp",
        "%%component make\nnumbers = [3, 1, 2]",
        "%%component total\nprint('total', sum(numbers))\nsum(numbers)",
    ]:
        run_ok(kernel, cell)
    shown_by: list[tuple[str, str]] = []
    for line in block_lines(the_block(KFP)):
        code = line.replace("http://localhost:8080", standin.url).replace(" [--namespace my-profile]", "")
        assert "[" not in code, f"a placeholder this test does not fill: {line!r}"
        shown_by.append((line, run_ok(kernel, code)))
    (backend, run, runs) = (text for _line, text in shown_by)

    assert "Default backend: kfp" in backend, backend
    # (The live view's text is the state when it was first shown; --wait held the cell to the end.)
    found = re.search(r"Run (on-kfp-\S+) \(([\w-]+)\)", run)
    assert found, run
    name, run_id = found.groups()
    assert run_id in standin.cluster.runs  # it ran on the server, not in the kernel's backend
    assert name in runs and "SUCCEEDED" in runs, runs
    status = run_ok(kernel, f"%pipeline status {run_id}")
    assert f"Run {name} ({run_id}): SUCCEEDED, 2/2 steps done" in status, status


def test_the_tensorboard_block_writes_the_projectors_files_and_says_how_to_see_them(
    kernel: KernelSession, tmp_path: Path
) -> None:
    (block,) = [
        b for b in readme_blocks() if b.section.startswith("TensorBoard inline") and b.lang == "python"
    ]
    shown = run_ok(kernel, block.text)  # as written, in a kernel no Jupyter server started
    assert "cannot be shown inline here" in shown, shown
    found = re.search(r"run `jupyter-mlops tensorboard (\S+)` in a terminal", shown)
    assert found, shown
    logdir = found.group(1)
    assert run_ok(kernel, "print(mlops.logdir())").strip() == logdir
    run_ok(kernel, "%load_ext jupyter_mlops")
    alternative = block.text.split("# or: ", 1)[1].strip()
    assert alternative.startswith("%pipeline tensorboard") and logdir in run_ok(kernel, alternative)

    # What the output says to do: TensorBoard serves the projector's points with their labels.
    log = (tmp_path / "tensorboard.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_mlops.cli", "tensorboard", logdir],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not (url := re.search(r"at (http://127\.0\.0\.1:\d+/)", Path(log.name).read_text())):
            assert proc.poll() is None and time.monotonic() < deadline, Path(log.name).read_text()
            time.sleep(0.3)
        base = url.group(1) + "data/plugin/projector/"
        with urllib.request.urlopen(base + "info?run=.", timeout=60) as answer:
            (embedding,) = json.load(answer)["embeddings"]
        assert embedding["tensorShape"] == [4, 3], embedding
        name = embedding["tensorName"]
        with urllib.request.urlopen(f"{base}metadata?run=.&name={name}", timeout=60) as answer:
            assert answer.read().decode().split() == ["north", "east", "south", "west"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()

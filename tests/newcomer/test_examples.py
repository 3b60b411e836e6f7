"""Every notebook in examples/ runs top to bottom in a real kernel (nbclient) and shows what it says
it shows; each opens with what it shows and how long it takes.

The kfp example sends its pipeline to the stand-in KFP server (tests/kfp_standin) this test starts,
through the unmodified kfp.Client. The S3 tutorial downloads from a local S3-compatible server this test
starts (moto's server mode): nothing here reaches a cloud.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from kfp_standin import StandIn

from tests.kernel.kernel_notebooks import execute_notebook, outputs_text
from tests.newcomer.readme_blocks import ROOT

EXAMPLES = ROOT / "examples"
# Each example and the test below that runs it (demo.ipynb: tests/test_demo.py).
RUN_BY = {
    "demo.ipynb": "tests/test_demo.py::test_demo_notebook_runs_in_a_real_kernel",
    "quickstart.ipynb": "test_quickstart_runs_twice_and_compares",
    "download_analyse_s3.ipynb": "test_download_analyse_from_a_local_s3_server",
    "embeddings.ipynb": "tests/board/test_example_notebook.py::test_the_embeddings_example_runs",
    "sweep_and_schedule.ipynb": "tests/sweeps/test_example_notebook.py",
    "kfp_backend.ipynb": "test_the_kfp_example_runs_against_the_standin_server",
}


def run_example(name: str, tmp_path: Path, env: dict[str, str] | None = None) -> Any:
    shutil.copy(EXAMPLES / name, tmp_path / name)
    nb = nbformat.read(tmp_path / name, as_version=4)
    execute_notebook(nb, tmp_path, env={"JUPYTER_MLOPS_HOME": str(tmp_path / "home"), **(env or {})})
    return nb


def cell_output(nb: Any, starts: str) -> str:
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(starts)]
    return outputs_text(cell)


def test_every_example_is_run_by_a_test_and_opens_with_what_and_how_long() -> None:
    names = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))
    assert names == sorted(RUN_BY), f"examples without a test here: {sorted(set(names) - set(RUN_BY))}"
    for name, test in RUN_BY.items():
        path, _, function = test.partition("::") if "/" in test else (__file__, "", test)
        source = (ROOT / path).read_text(encoding="utf-8")
        assert not function or f"def {function}(" in source, f"{name}: no {test}"
        assert name in source, f"{name}: {path} does not run it"
    for name in names:
        first = nbformat.read(EXAMPLES / name, as_version=4).cells[0]
        assert first.cell_type == "markdown", name
        assert "**What it shows:**" in first.source and "**How long:**" in first.source, name


def test_quickstart_runs_twice_and_compares(tmp_path: Path) -> None:
    nb = run_example("quickstart.ipynb", tmp_path)

    assert "Pipeline 'quickstart': 3 steps" in cell_output(nb, "%pipeline show")
    first = cell_output(nb, "first = ")
    second = cell_output(nb, "second = ")
    # (The live view's text is the state when it was first shown; the metrics come after the run.)
    for ran in (first, second):
        assert "'evaluate.true_mse': " in ran and "'fit.train_mse': " in ran, ran
    compared = cell_output(nb, "%pipeline compare")
    assert "* degree    3" in compared and "* noise     0.3" in compared, compared
    assert "* evaluate.true_mse" in compared and "* fit.train_mse" in compared, compared


@pytest.fixture
def s3_server(tmp_path: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path / "moto.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from moto.server import main; main()", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "moto.log"
                ).read_text()
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_download_analyse_from_a_local_s3_server(tmp_path: Path, s3_server: str) -> None:
    env = {
        "AWS_ENDPOINT_URL_S3": s3_server,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    nb = run_example("download_analyse_s3.ipynb", tmp_path, env)

    assert "s3://mlops-tutorial/weather/observations.csv: 120 rows" in cell_output(
        nb, 's3 = boto3.client("s3")'
    )
    assert "download\n    in:  bucket (parameter), key (parameter)" in cell_output(nb, "%pipeline show")
    # The spot-instance settings are in the compiled YAML, for both steps.
    _spec, platform = yaml.safe_load_all((tmp_path / "download-analyse.yaml").read_text())
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(executors) == {"exec-download", "exec-analyse"}
    for settings in executors.values():
        (affinity,) = settings["nodeAffinity"]
        assert affinity["weight"] == 100
        assert affinity["matchExpressions"] == [
            {"key": "cloud.google.com/gke-spot", "operator": "In", "values": ["true"]}
        ]
        assert {"key": "cloud.google.com/gke-spot", "operator": "Equal", "value": "true"} | {
            "effect": "NoSchedule"
        } in settings["tolerations"]
    ran = cell_output(nb, "run = ")
    assert "'analyse.rows': 120.0" in ran, ran
    assert "'analyse.rainy_share': 0.8166" in ran
    log = cell_output(nb, 'print(run.logs("download"))')
    assert "downloaded s3://mlops-tutorial/weather/observations.csv: 120 rows" in log
    # The local server, not AWS, answered the step's read (and the kernel's, the cell runs there too).
    served = (tmp_path / "moto.log").read_text()
    reads = [line for line in served.splitlines() if "GET" in line and "observations.csv" in line]
    assert len(reads) >= 2, served[-2000:]


def test_the_kfp_example_runs_against_the_standin_server(tmp_path: Path) -> None:
    server = StandIn(tmp_path / "kfp")
    url = server.start()
    try:
        nb = run_example("kfp_backend.ipynb", tmp_path, {"KFP_HOST": url})
    finally:
        server.stop()

    assert "Pipeline 'on-kubeflow': 2 steps" in cell_output(nb, "%pipeline show"), cell_output(
        nb, "%pipeline show"
    )
    assert "Compiled pipeline 'on-kubeflow' (2 steps) to on-kubeflow.yaml" in cell_output(
        nb, "%pipeline compile"
    )
    assert (tmp_path / "on-kubeflow.yaml").is_file()
    assert "SUCCEEDED {'summarise.total': 20.0}" in cell_output(nb, "local = ")
    backend = cell_output(nb, "import os")
    assert "Default backend: kfp" in backend and f"kfp at {url}" in backend, backend
    ran = cell_output(nb, "on_kfp = ")
    assert "SUCCEEDED {'make': 'SUCCEEDED', 'summarise': 'SUCCEEDED'}" in ran, ran
    run_ids = [r for r in server.cluster.runs]
    assert len(run_ids) == 1  # the second run went to the server; the first stayed local
    listed = cell_output(nb, "%pipeline runs")
    assert "on-kubeflow-" in listed and "SUCCEEDED" in listed, listed
    read_back = cell_output(nb, "print(on_kfp.metrics)")  # from ML Metadata, through the UI's proxy
    assert read_back.startswith("{'summarise.total': 42.0}"), read_back
    assert "[0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]" in read_back, read_back  # the UI's artifact endpoint
    assert "Default backend: local" in cell_output(nb, "%pipeline backend local")

"""A notebook on `%pipeline backend kfp` in a real kernel while the KFP server (the stand-in,
tests/kfp_standin) goes away mid-run and comes back: `%pipeline runs` and `run.wait()` say so in one
line, nothing hangs, and the same session works again once the server is back; then a run ships a data
file the notebook reads (`%pipeline run --files`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kfp_standin import StandIn

from .kernel_notebooks import KernelSession


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path / "kfp-standin")
    server.start()
    yield server
    server.stop()


def test_a_notebook_outlives_the_kfp_server_going_away(tmp_path: Path, standin: StandIn) -> None:
    kernel = KernelSession(
        tmp_path, env={"JUPYTER_MLOPS_HOME": str(tmp_path / "home"), "KFP_HOST": standin.url}
    )
    try:

        def ok(source: str) -> str:
            reply, shown = kernel.run(source)
            assert reply["status"] == "ok", shown
            return shown

        ok("%load_ext jupyter_mlops")
        ok("%%component nap\nimport time\ntime.sleep(6)\nrested = 1")
        assert "Default backend: kfp" in ok("%pipeline backend kfp")
        ok("run = %pipeline run")
        url = standin.url
        port = int(url.rsplit(":", 1)[1])
        standin.stop(close_cluster=False)

        started = time.monotonic()
        reply, shown = kernel.run("%pipeline runs")
        assert reply["status"] == "error" and "Traceback" not in shown
        [line] = [x for x in shown.splitlines() if "UsageError" in x]
        assert f"the KFP server at {url} is unreachable while listing runs" in line
        reply, shown = kernel.run("run.wait(grace=1)")
        assert reply["status"] == "error" and "stopped waiting after 1 s without an answer" in shown
        assert "call .wait() again once the server is back" in shown
        assert time.monotonic() - started < 60

        standin.start(port)
        assert "SUCCEEDED" in ok("print(run.wait().state.value)")
        listed = ok("%pipeline runs")
        assert ok("print(run.id, end='')") in listed

        # A data file the notebook reads by relative path goes with the run (the stand-in runs steps
        # in an empty folder, as a pod has no notebook folder).
        (tmp_path / "limits.txt").write_text("4242\n")
        ok("%%component reads\nwith open('limits.txt') as f:\n    limit = int(f.read())\nprint(2 * limit)")
        ok("shipped = %pipeline run --wait --files limits.txt")
        assert "SUCCEEDED" in ok("print(shipped.state.value)")
        assert "8484" in ok("print(shipped.logs('reads'))")
    finally:
        kernel.close()

"""`%pipeline sweep` in a real kernel: a sweep, its best parameters, and a resume after the kernel died."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.sweeps import get_sweep
from tests.kernel.kernel_notebooks import KernelSession
from tests.waiting import wait_until

PARAMS = "%%pipeline params\nx = 0\ny = 0.0\n"
LOAD = "%%component load\nbase = 10.0\n"
# Each execution of `fit` appends its x to a file: the test counts what ran, whatever the cache did.
FIT = """%%component fit
import time
with open('fit_runs.txt', 'a') as f:
    f.write(f'{x},{y}\\n')
time.sleep(SLEEP)
score = base - (x - 3) ** 2 - 4 * (y - 0.5) ** 2
log_metric('score', score)
"""


def _cells(sleep: float) -> list[str]:
    return ["%load_ext jupyter_mlops", PARAMS, LOAD, FIT.replace("SLEEP", repr(sleep))]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def _kernel(tmp_path: Path, home: Path) -> KernelSession:
    return KernelSession(tmp_path, env={"JUPYTER_MLOPS_HOME": str(home)})


def _fit_runs(tmp_path: Path) -> list[str]:
    path = tmp_path / "fit_runs.txt"
    return path.read_text().splitlines() if path.exists() else []


def test_a_sweep_from_the_magic_and_its_best_parameters(tmp_path: Path, home: Path) -> None:
    kernel = _kernel(tmp_path, home)
    try:
        for i, cell in enumerate(_cells(0.0)):
            reply, shown = kernel.run(cell, cell_id=f"c{i}")
            assert reply["status"] == "ok", shown
        reply, shown = kernel.run("s = %pipeline sweep x=1..5 y=0.5 --metric score --name m1 --wait", "c9")
        assert reply["status"] == "ok", shown
        assert "Sweep m1  RUNNING" in shown  # the live view, shown at once (then updated in place)
        reply, shown = kernel.run("print(s.summary())", "c9b")
        assert "Sweep m1  FINISHED  5 trials done  max score" in shown
        assert "best score=10 (trial 2: x=3)" in shown
        reply, shown = kernel.run("best = %pipeline sweep --best\nprint(best)", "c10")
        assert reply["status"] == "ok", shown
        assert "{'x': 3, 'y': 0.5}" in shown
        assert kernel.value("s.best.params") == "{'x': 3, 'y': 0.5}"
        reply, shown = kernel.run("%pipeline sweep x=0.5,1 --metric score", "c11")
        assert reply["status"] == "error" and "parameter 'x' is an int; 0.5 is not one" in shown
        reply, shown = kernel.run("%pipeline sweep lr=1,2 --metric score", "c12")
        assert "the pipeline has no parameter 'lr' (parameters: x, y)" in shown
        reply, shown = kernel.run("%pipeline sweeps", "c13")
        assert "m1" in shown and "FINISHED" in shown and "5/5" in shown
    finally:
        kernel.close()


def test_a_sweep_resumed_after_its_kernel_was_killed_reruns_nothing_finished(
    tmp_path: Path, home: Path
) -> None:
    kernel = _kernel(tmp_path, home)
    try:
        for i, cell in enumerate(_cells(1.0)):
            reply, shown = kernel.run(cell, cell_id=f"c{i}")
            assert reply["status"] == "ok", shown
        (tmp_path / "fit_runs.txt").unlink()  # the cell ran once in the kernel: count the trials only
        reply, shown = kernel.run("%pipeline sweep x=0..5 --metric score --name killed --parallel 2", "c9")
        assert reply["status"] == "ok", shown
        backend = LocalBackend(home)
        wait_until(
            lambda: sum(t.state == "SUCCEEDED" for t in get_sweep("killed", backend=backend).trials) >= 2,
            what="two finished trials",
        )
    finally:
        kernel.km.shutdown_kernel(now=True)  # killed mid-sweep: its driver thread dies with it
        kernel.kc.stop_channels()
    before = get_sweep("killed", backend=backend)
    finished = {t.number: t.run_id for t in before.trials if t.state == "SUCCEEDED"}
    assert 2 <= len(finished) < 6
    assert before.state == "INTERRUPTED"

    kernel = _kernel(tmp_path, home)
    try:
        reply, shown = kernel.run("%load_ext jupyter_mlops", "r0")
        reply, shown = kernel.run("s = %pipeline sweep --resume killed --wait\nprint(s.summary())", "r1")
        assert reply["status"] == "ok", shown
        assert "FINISHED  6 trials done" in shown
    finally:
        kernel.close()
    after = get_sweep("killed", backend=backend)
    assert sorted(t.params["x"] for t in after.trials) == [0, 1, 2, 3, 4, 5]
    assert all(t.state == "SUCCEEDED" for t in after.trials)
    assert {t.number: t.run_id for t in after.trials if t.number in finished} == finished
    ran = [line.split(",")[0] for line in _fit_runs(tmp_path)]
    assert sorted(ran) == ["0", "1", "2", "3", "4", "5"]  # every point ran once: none finished ran again
    assert after.best is not None and after.best.params["x"] == 3

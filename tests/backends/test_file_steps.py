"""Steps sharing files on the local backend: a notebook that makes a folder, writes into it and lists it
runs in that order every time, and a re-run recreates files its cache would not."""

from __future__ import annotations

from pathlib import Path

import jupyter_mlops as mlops
from jupyter_mlops.models import RunState, StepState
from jupyter_mlops.notebook.workspace import Workspace

from .contract import explain

# `root` is a parameter so the steps find the test's folder wherever their working directory is.
MAKE = (
    "import os, time\n"
    "time.sleep(0.5)  # some work first\n"
    "os.makedirs(os.path.join(root, 'out'), exist_ok=True)\n"
)
WRITE = "open(os.path.join(root, 'out', 'a.txt'), 'w').write('a')\n"
REPORT = (
    "names = sorted(os.listdir(os.path.join(root, 'out')))\n"
    "text = open(os.path.join(root, 'out', 'a.txt')).read()\n"
    "print('report:', names, text)\n"
)


def _pipeline(root: Path) -> Workspace:
    w = Workspace("files")
    w.define_params(f"root = {str(root)!r}\n")
    w.define_component("make", MAKE)
    w.define_component("write", WRITE)
    w.define_component("report", REPORT)
    return w


def test_make_write_report_runs_in_order_every_time(home: Path, tmp_path: Path) -> None:
    for attempt in range(4):
        root = tmp_path / f"attempt-{attempt}"
        root.mkdir()
        run = mlops.run(_pipeline(root).active, cache=False).wait(timeout=300)
        assert run.state is RunState.SUCCEEDED, explain(run.info)
        assert "report: ['a.txt'] a" in run.logs("report")
        assert (root / "out" / "a.txt").read_text() == "a"


def test_a_rerun_recreates_a_deleted_file_instead_of_using_the_cache(home: Path, tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path).active
    first = mlops.run(pipeline).wait(timeout=300)
    assert first.state is RunState.SUCCEEDED, explain(first.info)
    written = tmp_path / "out" / "a.txt"
    written.unlink()

    second = mlops.run(pipeline).wait(timeout=300)

    assert second.state is RunState.SUCCEEDED, explain(second.info)
    assert second.tasks["make"] == second.tasks["write"] == StepState.SUCCEEDED  # not CACHED
    assert written.read_text() == "a"
    assert second.tasks["report"] == StepState.SUCCEEDED
    assert "report: ['a.txt'] a" in second.logs("report")


def test_a_rerun_reads_a_changed_data_file_and_later_steps_reuse_the_cache_when_it_did_not(
    home: Path, tmp_path: Path
) -> None:
    w = Workspace("reader")
    w.define_params(f"root = {str(tmp_path)!r}\n")
    w.define_component("load", "import os\nrows = open(os.path.join(root, 'data.txt')).read().split()\n")
    w.define_component("count", "n = len(rows)\nprint('count:', n)\n")
    data = tmp_path / "data.txt"
    data.write_text("a b")
    first = mlops.run(w.active).wait(timeout=300)
    again = mlops.run(w.active).wait(timeout=300)
    data.write_text("a b c")  # the user edits the data and runs again
    edited = mlops.run(w.active).wait(timeout=300)

    for run in (first, again, edited):
        assert run.state is RunState.SUCCEEDED, explain(run.info)
    assert again.tasks == {"load": StepState.SUCCEEDED, "count": StepState.CACHED}  # same rows: reused
    assert edited.tasks == {"load": StepState.SUCCEEDED, "count": StepState.SUCCEEDED}
    assert "count: 3" in edited.logs("count")

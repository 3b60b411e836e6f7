"""A step ends as `python -m kfp.dsl.executor_main` ends in a pod: after its function returns, Python
waits for the threads the step started (non-daemon) and runs its `atexit` handlers (mlflow ends its run
there, writers flush). Forked steps end with os._exit, which does neither by itself; they do both first,
and none of the handlers of the processes they were forked from (the runner service's, a zygote's)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from cli_runs import cli

STEP = """%%component finish --no-cache
import atexit
import threading
import time

def bye():
    with open('atexit.txt', 'w') as f:
        f.write('ran')

def upload():
    time.sleep(0.3)
    with open('thread.txt', 'w') as f:
        f.write('done')

atexit.register(bye)
threading.Thread(target=upload).start()
x = 1
"""


@pytest.mark.parametrize("runner", ["service", "process"])
def test_a_steps_threads_are_waited_for_and_its_atexit_handlers_run(tmp_path: Path, runner: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in ["%load_ext jupyter_mlops", STEP]]
    nbformat.write(notebook, tmp_path / "ends.ipynb")
    cli(tmp_path / "home", "run", "ends.ipynb", "--wait", cwd=tmp_path, runner=runner)

    assert (tmp_path / "thread.txt").read_text() == "done"  # waited for, not killed with the step
    assert (tmp_path / "atexit.txt").read_text() == "ran"

"""A run's folder removed while it runs (`rm -rf`): a log that is gone is said to be gone, not served as
an empty, complete log (issue 12, item 15)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from backends.contract import finished
from waiting import wait_until

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import StepState
from jupyter_mlops.run_follow import print_logs


def test_a_log_removed_with_the_run_folder_is_reported_gone(home: Path, specs: dict[str, str]) -> None:
    backend = LocalBackend(home)
    run_id = backend.submit(specs["sleepy"], {"seconds": 2.0}).id
    wait_until(lambda: backend.get(run_id).step("nap").state is StepState.RUNNING, what="the nap step")
    shutil.rmtree(backend.run_dir(run_id))
    finished(backend, run_id)
    chunk = backend.logs(run_id, "add")
    assert chunk.missing and chunk.complete
    assert "the log of step 'add' is gone" in chunk.text and chunk.next_offset == 0
    out = io.StringIO()
    print_logs(backend, run_id, "add", follow=True, out=out)  # ends, saying so once
    assert out.getvalue().count("is gone") == 1


def test_a_step_that_never_ran_has_an_empty_log_not_a_lost_one(home: Path, specs: dict[str, str]) -> None:
    backend = LocalBackend(home)
    run = finished(backend, backend.submit(specs["failing"]).id)
    chunk = backend.logs(run.id, "add-2")  # skipped: its upstream failed
    assert chunk.text == "" and chunk.complete and not chunk.missing
    out = io.StringIO()
    print_logs(backend, run.id, "add-2", follow=False, out=out)  # says so, rather than print nothing
    assert out.getvalue() == f"(step 'add-2' of run {run.id} printed nothing; it is SKIPPED)\n", (
        out.getvalue()
    )

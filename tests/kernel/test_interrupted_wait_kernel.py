"""The kernel's stop button (an interrupt) while `r = %pipeline run --wait` waits, or while
`%pipeline logs RUN STEP --follow` follows: it stops the waiting, not the run, and says so in a line,
with where to find the run again.

Before: a KeyboardInterrupt traceback through IPython and this package (run_handle, run_notify's
select; run_follow), no word of the run, and `r` never bound.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from waiting import wait_until

from jupyter_mlops.models import RunState
from jupyter_mlops.store import RunStore

from .kernel_notebooks import KernelSession, plain

GATED = (
    "%%component gated --define-only\nimport os, time\nprint('at the gate', flush=True)\n"
    "while not os.path.exists('go'):\n    time.sleep(0.05)\nprint('through the gate')\n"
)


def _running_step(home: Path) -> str | None:
    """The id of the run whose step `gated` is running, once it is."""
    if not (home / "store.db").exists():
        return None
    store = RunStore(home)
    try:
        for info in store.list_runs(limit=5).runs:
            full = store.get_run(info.id)
            if any(s.name == "gated" and s.state.value == "RUNNING" for s in full.steps):
                return info.id
    finally:
        store.close()
    return None


def _succeeded(home: Path) -> int:
    store = RunStore(home)
    try:
        return len(store.list_runs(state=RunState.SUCCEEDED, limit=10).runs)
    finally:
        store.close()


def _past_the_interrupt(kernel: KernelSession) -> None:
    """ipykernel aborts the requests that come at once after a cell failed (stop_on_error)."""
    for _ in range(20):
        if kernel.run("pass")[0]["status"] == "ok":
            return
    raise AssertionError("the kernel aborts every request")


def _until_idle(
    kernel: KernelSession,
    msg_id: str,
    *,
    streams: bool = True,
    on_stream: Callable[[str], None] | None = None,
) -> tuple[str, str]:
    """("error" or "ok", what the request printed: its streams (unless `streams` is False) and its
    traceback) once the kernel is idle after it; `on_stream` sees each stream text as it comes."""
    texts: list[str] = []
    while True:
        io = kernel.kc.get_iopub_msg(timeout=120)
        if io["parent_header"].get("msg_id") != msg_id:
            continue
        if io["msg_type"] == "stream" and streams:
            texts.append(io["content"]["text"])
            if on_stream is not None:
                on_stream(io["content"]["text"])
        elif io["msg_type"] == "error":
            texts.append("\n".join(io["content"]["traceback"]))
            return "error", plain("".join(texts))
        elif io["msg_type"] == "status" and io["content"]["execution_state"] == "idle":
            return "ok", plain("".join(texts))


@pytest.mark.timeout(600)
def test_an_interrupt_during_run_wait_stops_the_waiting_and_says_where_the_run_is(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = tmp_path / "my project"
    folder.mkdir()
    kernel = KernelSession(folder, env={"JUPYTER_MLOPS_HOME": str(home)})
    try:
        reply, shown = kernel.run("%load_ext jupyter_mlops")
        assert reply["status"] == "ok", shown
        reply, shown = kernel.run(GATED)
        assert reply["status"] == "ok", shown
        msg_id = kernel.kc.execute("r = %pipeline run --wait")
        while True:  # the run view is on screen: the run was submitted, the magic waits for it
            io = kernel.kc.get_iopub_msg(timeout=120)
            if io["parent_header"].get("msg_id") == msg_id and io["msg_type"] == "display_data":
                break
        run_id = wait_until(lambda: _running_step(home), timeout=300, what="the step to run")
        kernel.km.interrupt_kernel()
        status, shown = _until_idle(kernel, msg_id)
        assert status == "error", shown  # interrupted: cells queued after it do not run
        assert f"run {run_id}" in shown and "goes on" in shown, shown
        assert f"%pipeline cancel {run_id}" in shown and f"mlops.get_run('{run_id}')" in shown, shown
        assert "run_handle" not in shown and "select" not in shown and "Traceback" not in shown, shown
        assert len(shown.strip().splitlines()) <= 3, shown
        _past_the_interrupt(kernel)
        follow = kernel.kc.execute(f"%pipeline logs {run_id} gated --follow")

        def interrupt_at_the_gate(text: str) -> None:
            if "at the gate" in text:
                kernel.km.interrupt_kernel()

        # what the step printed, then (interrupted) one line
        status, shown = _until_idle(kernel, follow, on_stream=interrupt_at_the_gate)
        assert status == "error" and shown.startswith("at the gate\n"), shown
        assert "Stopped following the log of step 'gated'" in shown and f"run {run_id} goes on" in shown
        assert "Traceback" not in shown and "run_follow" not in shown, shown
        (folder / "go").write_text("")  # the run went on: let it through; it ends well
        _past_the_interrupt(kernel)
        reply, shown = kernel.run(
            f"import jupyter_mlops as mlops\nr = mlops.get_run('{run_id}').wait(300)\n"
            "print(r.state.value, r.logs('gated'))"
        )
        assert reply["status"] == "ok" and shown.startswith("SUCCEEDED at the gate\nthrough the gate"), shown
    finally:
        kernel.close()


@pytest.mark.timeout(600)
def test_an_interrupt_during_sweep_wait_says_the_sweep_goes_on_and_how_to_stop_it(tmp_path: Path) -> None:
    """Before: a KeyboardInterrupt traceback through the sweep handle, and no word of the sweep."""
    home = tmp_path / "home"
    folder = tmp_path / "project"
    folder.mkdir()
    kernel = KernelSession(folder, env={"JUPYTER_MLOPS_HOME": str(home)})
    try:
        for cell in (
            "%load_ext jupyter_mlops",
            "%%pipeline params\nx = 1",
            GATED + "log_metric('m', x)\n",
        ):
            reply, shown = kernel.run(cell)
            assert reply["status"] == "ok", shown
        msg_id = kernel.kc.execute("%pipeline sweep x=1,2 --metric m --goal max --name gates --wait")
        wait_until(lambda: _running_step(home), timeout=300, what="a trial's step to run")
        kernel.km.interrupt_kernel()
        status, shown = _until_idle(kernel, msg_id, streams=False)
        assert status == "error", shown
        assert shown.startswith("KeyboardInterrupt: Stopped waiting: sweep 'gates' goes on"), shown
        assert "%pipeline sweep --stop gates" in shown and "Traceback" not in shown, shown
        _past_the_interrupt(kernel)
        (folder / "go").write_text("")  # the sweep went on in the kernel: both its trials end well
        wait_until(lambda: _succeeded(home) == 2, timeout=300, what="both trials to succeed")
    finally:
        kernel.close()


@pytest.mark.timeout(600)
def test_an_interrupt_while_pipeline_run_submits_lets_the_submit_finish_and_says_which_run_goes_on(
    tmp_path: Path,
) -> None:
    """The kernel's own SIGINT (what the stop button sends) while `%pipeline run` hands the run to its
    runner. Before: a KeyboardInterrupt traceback through this package, and a run recorded PENDING that
    nothing ran."""
    home = tmp_path / "home"
    kernel = KernelSession(tmp_path, env={"JUPYTER_MLOPS_HOME": str(home)})
    try:
        for cell in (
            "%load_ext jupyter_mlops",
            "%%component make\nvalue = 20",
            "%%component double\ntwice = value * 2\nprint('twice is', twice)",
            # the interrupt lands while the run is handed to its runner: a real SIGINT to the kernel
            "import os, signal\nfrom jupyter_mlops.backends.local import LocalBackend\n"
            "_handing = LocalBackend._start_runner\n"
            "def _interrupted(self, *args, **kwargs):\n"
            "    os.kill(os.getpid(), signal.SIGINT)\n"
            "    return _handing(self, *args, **kwargs)\n"
            "LocalBackend._start_runner = _interrupted",
        ):
            reply, shown = kernel.run(cell)
            assert reply["status"] == "ok", shown
        msg_id = kernel.kc.execute("%pipeline run")
        status, shown = _until_idle(kernel, msg_id)
        assert status == "error", shown  # interrupted: cells queued after it do not run
        store = RunStore(home)
        try:
            [run] = store.list_runs(limit=5).runs
        finally:
            store.close()
        assert shown.strip() == (
            f"KeyboardInterrupt: Interrupted while submitting; the submit was finished first: run {run.id} "
            f"goes on. `%pipeline status {run.id}` shows it, `%pipeline cancel {run.id}` stops it, "
            f"`mlops.get_run('{run.id}')` is its Run."
        ), shown
        _past_the_interrupt(kernel)
        reply, shown = kernel.run(
            "LocalBackend._start_runner = _handing\nimport jupyter_mlops as mlops\n"
            f"r = mlops.get_run('{run.id}').wait(300)\nprint(r.state.value, r.logs('double'))"
        )
        assert reply["status"] == "ok" and shown.startswith("SUCCEEDED twice is 40"), shown
        reply, shown = kernel.run("%pipeline cancel")  # no run named: the interrupted one
        assert reply["status"] == "ok" and shown.strip() == f"Run {run.id} is SUCCEEDED.", shown
    finally:
        kernel.close()

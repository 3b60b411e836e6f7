"""An interrupt (Ctrl+C, the kernel's stop button) while `mlops.run` submits: a run is submitted whole
or not at all, and the user is told which (held_interrupt.py).

Each case runs in a process of its own, as a script or a kernel would: the interrupt is a real SIGINT
the process sends itself at the moment under test (a real function of ours wrapped to send it first),
with Python's own SIGINT handler in place, as in a kernel running a cell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_PRELUDE = """
import json, os, signal, sys
from jupyter_mlops.notebook.reader import feed_cell
from jupyter_mlops.notebook.workspace import Workspace
import jupyter_mlops as mlops
from jupyter_mlops.backends.local import LocalBackend

workspace = Workspace("interrupted")
feed_cell(workspace, "%%component make\\nvalue = 20\\n", "cell 1")
feed_cell(workspace, "%%component double\\ntwice = value * 2\\n", "cell 2")
pipeline = workspace.active
backend = LocalBackend()

def interrupting(function, times=1):
    def wrapped(*args, **kwargs):
        for _ in range(times):
            os.kill(os.getpid(), signal.SIGINT)
        return function(*args, **kwargs)
    return wrapped

def report(**fields):
    runs = backend.list_runs().runs
    fields["runs"] = [[r.id, r.state.value] for r in runs]
    print("REPORT " + json.dumps(fields), flush=True)
"""


def _script(tmp_path: Path, body: str) -> dict:
    env = dict(os.environ, JUPYTER_MLOPS_HOME=str(tmp_path / "home"), PYTHONPATH=os.getcwd())
    code = _PRELUDE + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, f"no report (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    return json.loads(lines[-1][len("REPORT ") :])


def test_an_interrupt_while_the_run_is_handed_to_its_runner_lets_the_submit_finish_and_names_the_run(
    tmp_path: Path,
) -> None:
    found = _script(
        tmp_path,
        """
        backend._start_runner = interrupting(backend._start_runner)
        try:
            mlops.run(pipeline, backend=backend)
        except mlops.errors.SubmitInterrupted as exc:
            run = mlops.get_run(exc.run_id, backend=backend)
            run.wait(timeout=120)
            report(caught="SubmitInterrupted", run=exc.run_id, message=str(exc), state=run.state.value,
                   value=run.outputs["make"]["value"])
        except KeyboardInterrupt as exc:
            report(caught=type(exc).__name__)
        """,
    )
    assert found["caught"] == "SubmitInterrupted"
    # the run was recorded, handed over and ran to its end: the only run there is
    assert found["runs"] == [[found["run"], "SUCCEEDED"]]
    assert found["state"] == "SUCCEEDED" and found["value"] == 20
    assert found["message"] == (
        f"Interrupted while submitting; the submit was finished first: run {found['run']} goes on. "
        f"`%pipeline status {found['run']}` shows it, `%pipeline cancel {found['run']}` stops it, "
        f"`mlops.get_run('{found['run']}')` is its Run."
    )


def test_a_second_interrupt_during_the_submit_is_let_through(tmp_path: Path) -> None:
    found = _script(
        tmp_path,
        """
        backend._start_runner = interrupting(backend._start_runner, times=2)
        try:
            mlops.run(pipeline, backend=backend)
            report(caught=None)
        except KeyboardInterrupt as exc:
            report(caught=type(exc).__name__)
        """,
    )
    assert found["caught"] == "KeyboardInterrupt"  # pressed twice: the user means it now


def test_an_interrupt_while_compiling_says_nothing_was_submitted_and_records_no_run(tmp_path: Path) -> None:
    found = _script(
        tmp_path,
        """
        import jupyter_mlops.ir.documents as documents
        documents.compile_notebook = interrupting(documents.compile_notebook)
        try:
            mlops.run(pipeline, backend=backend)
            report(caught=None)
        except KeyboardInterrupt as exc:
            report(caught=type(exc).__name__, message=str(exc),
                   shown=exc._render_traceback_() if hasattr(exc, "_render_traceback_") else None)
        """,
    )
    assert found["caught"] == "CompileInterrupted"
    assert found["runs"] == []
    assert found["shown"] == [
        "KeyboardInterrupt: Interrupted while compiling pipeline 'interrupted': nothing was submitted."
    ]


def test_after_the_submit_the_interrupt_handler_is_pythons_again(tmp_path: Path) -> None:
    found = _script(
        tmp_path,
        """
        run = mlops.run(pipeline, backend=backend)
        run.wait(timeout=120)
        report(handler=signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        """,
    )
    assert found["handler"] is True


@pytest.mark.parametrize("where", ["submit", "compile"])
def test_the_cli_says_what_an_interrupt_while_submitting_left(tmp_path: Path, where: str) -> None:
    notebook = tmp_path / "nb.ipynb"
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%%component make\nvalue = 20\n"),
        nbformat.v4.new_code_cell("%%component double\ntwice = value * 2\n"),
    ]
    nbformat.write(nb, notebook)
    patch = (
        "backends.local.LocalBackend._start_runner = interrupting(backends.local.LocalBackend._start_runner)"
        if where == "submit"
        else "documents.compile_notebook = interrupting(documents.compile_notebook)"
    )
    found = _script(
        tmp_path,
        f"""
        import contextlib, io
        import jupyter_mlops.backends as backends, jupyter_mlops.backends.local
        import jupyter_mlops.ir.documents as documents
        from jupyter_mlops.cli.main import main
        {patch}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["run", "nb.ipynb"])
        runs = backend.list_runs().runs
        if runs:
            mlops.get_run(runs[0].id, backend=backend).wait(timeout=120)
        report(code=code, out=out.getvalue())
        """,
    )
    assert found["code"] == 130
    if where == "submit":
        [[run, state]] = found["runs"]
        assert state == "SUCCEEDED"
        assert found["out"].strip() == (
            f"Interrupted; run {run} was submitted first and goes on. Follow it: jupyter-mlops status {run}; "
            f"stop it: jupyter-mlops cancel {run}"
        )
    else:
        assert found["runs"] == []
        assert found["out"].strip() == "Interrupted while compiling pipeline 'nb': nothing was submitted."

from __future__ import annotations

import pytest
from IPython.testing.globalipapp import start_ipython


@pytest.fixture(scope="session")
def _session_shell():
    shell = start_ipython()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    return shell


@pytest.fixture
def ip(_session_shell, tmp_path, monkeypatch):
    """A real IPython shell with the extension loaded, a fresh workspace, and cwd in tmp_path."""
    monkeypatch.chdir(tmp_path)
    magics = _session_shell.magics_manager.registry["PipelineMagics"]
    from jupyter_mlops.notebook.workspace import Workspace

    magics.workspace = Workspace("pipeline")
    return _session_shell


def run_cell(shell, source: str):
    """Run a cell; raise its error (as a notebook would show it)."""
    result = shell.run_cell(source, store_history=False)
    if result.error_before_exec is not None:
        raise result.error_before_exec
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result

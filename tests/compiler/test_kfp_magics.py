"""A notebook on the kfp backend: `%pipeline backend kfp --host URL`, then the same magics and API as on
local (run --wait, runs, status, mlops.get-style reads through the Backend protocol), against the
stand-in KFP server (tests/kfp_standin) through the real kfp.Client."""

from __future__ import annotations

import pytest
from kfp_standin import StandIn

from jupyter_mlops.backends import registry

from .conftest import run_cell


@pytest.fixture
def standin(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    server = StandIn(tmp_path / "kfp")
    server.start()
    yield server
    server.stop()


def test_a_notebook_runs_its_pipeline_on_kfp(ip, standin, capsys):
    magics = ip.magics_manager.registry["PipelineMagics"]
    try:
        run_cell(ip, f"%pipeline backend kfp --host {standin.url}")
        assert capsys.readouterr().out.strip() == "Default backend: kfp"
        run_cell(ip, "%pipeline backend")
        assert f"kfp at {standin.url}, 0 runs (0 active)" in capsys.readouterr().out

        run_cell(ip, "%%component make\nnumbers = [3, 1, 2]\n")
        run_cell(ip, "%%component total\nprint('total', sum(numbers))\n")
        run = run_cell(ip, "%pipeline run --wait --name on-kfp --experiment nb")
        assert run.backend.name == "kfp" and run.state.value == "SUCCEEDED", run.info
        assert run.id in standin.cluster.runs  # it ran on the server, not here
        assert {s.name: s.state.value for s in run.info.steps} == {"make": "SUCCEEDED", "total": "SUCCEEDED"}
        # What ML Metadata holds comes back (through the UI's proxy, tests/kfp_standin): the list is an
        # artifact (its type and metadata are read), not a parameter; its bytes come from the object
        # store through the KFP UI's artifact endpoint when the value is read, as on local.
        [numbers] = run.backend.artifacts(run.id, "make")
        assert (numbers.name, numbers.type, numbers.metadata.get("format")) == (
            "numbers",
            "system.Dataset",
            "json",
        )
        assert numbers.uri.startswith("minio://")
        assert run.outputs["make"]["numbers"] == [3, 1, 2]
        assert [r for r in standin.requests if r.startswith("GET /artifacts/get?")]
        capsys.readouterr()
        shown = run_cell(ip, "%pipeline runs --experiment nb")
        assert "on-kfp" in repr(shown) + capsys.readouterr().out
        shown = run_cell(ip, f"%pipeline status {run.id}")
        assert f"Run on-kfp ({run.id}): SUCCEEDED" in repr(shown) + capsys.readouterr().out
        page = registry.default_backend().list_runs(experiment="nb")
        assert [r.id for r in page.runs] == [run.id]
    finally:
        run_cell(ip, "%pipeline backend local")
        magics.last_run_id = None

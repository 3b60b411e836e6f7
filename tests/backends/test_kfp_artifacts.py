"""Artifact values of KFP runs: `run.outputs` downloads a step's values (a DataFrame, an array, a fitted
model) through the KFP UI's artifact endpoint (`GET /artifacts/get`, served by the stand-in from the
files its execution wrote) and loads them as on the local backend; previews come back from ML Metadata
as KFP's launcher records them; where the endpoint is not there or refuses, one clear line names the
artifact and the run's page in the KFP UI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from kfp_standin import Fault, StandIn

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.errors import Unsupported
from jupyter_mlops.ir.documents import load_pipeline
from jupyter_mlops.models import RunState
from jupyter_mlops.notebook.reader import pipeline_from_notebook
from jupyter_mlops.run_handle import Run

from .contract import explain, finished, succeeded

CELLS = [
    "%load_ext jupyter_mlops",
    "%%component make\nimport numpy as np\nimport pandas as pd\n"
    "frame = pd.DataFrame({'x': [1.0, 2.0, 3.0], 'name': ['a', 'b', 'c']})\n"
    "weights = np.arange(6).reshape(2, 3)",
    "%%component fit\nfrom sklearn.linear_model import LinearRegression\n"
    "model = LinearRegression().fit(frame[['x']], [2.0, 4.0, 6.0])\nscale = int(weights.sum())",
    "%%component score\nscore = float(model.score(frame[['x']], [2.0, 4.0, 6.0])) * scale",
]


def compiled(tmp_path: Path) -> list[dict[str, Any]]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    path = tmp_path / "values.ipynb"
    nbformat.write(notebook, str(path))
    return load_pipeline(pipeline_from_notebook(path, None))


def test_run_outputs_of_a_kfp_run_load_its_values_as_on_local(
    standin: StandIn, tmp_path: Path, home: Path
) -> None:
    documents = compiled(tmp_path)
    local = LocalBackend(home / "local")
    local_id = local.submit(documents).id
    kfp = KfpBackend(host=standin.url)
    assert kfp.capabilities.artifact_download is True  # the host is the KFP UI's server
    kfp_id = kfp.submit(documents).id
    for backend, run_id in ((local, local_id), (kfp, kfp_id)):
        info = finished(backend, run_id)
        assert info.state is RunState.SUCCEEDED, explain(info)

    here, there = Run(local, local_id).outputs, Run(kfp, kfp_id).outputs
    assert set(there["make"]) == set(here["make"]) == {"frame", "weights"}
    assert there["make"]["frame"].equals(here["make"]["frame"])
    assert (there["make"]["weights"] == here["make"]["weights"]).all()
    assert there["fit"]["model"].coef_.tolist() == here["fit"]["model"].coef_.tolist()
    assert there["fit"]["scale"] == here["fit"]["scale"] == 15
    downloads = [r for r in standin.requests if r.startswith("GET /artifacts/get?")]
    assert len(downloads) == 3  # one per value read, each once
    again = Run(kfp, kfp_id).outputs["fit"]["model"]  # a new handle: read from the local copy
    assert again.coef_.tolist() == here["fit"]["model"].coef_.tolist()
    assert len([r for r in standin.requests if r.startswith("GET /artifacts/get?")]) == 3
    assert Path(Run(kfp, kfp_id).artifact_path("make", "frame")).is_file()

    import dataclasses

    listed = kfp.artifacts(kfp_id, "make")[0]
    kfp.local_artifact(listed)  # copied already: nothing asked
    assert len([r for r in standin.requests if r.startswith("GET /artifacts/get?")]) == 3
    kfp.local_artifact(dataclasses.replace(listed, uri=listed.uri + "/"))  # from elsewhere now: again
    assert len([r for r in standin.requests if r.startswith("GET /artifacts/get?")]) == 4

    served = kfp.open_artifact(kfp_id, "make", next(a.name for a in kfp.artifacts(kfp_id, "make")))
    try:
        assert served.stream.read(4)  # the sidebar's artifact route reads the same copy
    finally:
        served.close()
    kfp.close()


def test_the_preview_of_a_kfp_runs_value_comes_back_from_ml_metadata(
    standin: StandIn, tmp_path: Path, home: Path
) -> None:
    from jupyter_mlops.widgets.run_widget import RunView

    documents = compiled(tmp_path)
    local = LocalBackend(home / "local")
    local_id = local.submit(documents).id
    kfp = KfpBackend(host=standin.url)
    kfp_id = kfp.submit(documents).id
    succeeded(local, local_id)
    succeeded(kfp, kfp_id)

    here = RunView(local, local_id, live=False).step_detail("make")["previews"]
    there = RunView(kfp, kfp_id, live=False).step_detail("make")["previews"]
    assert set(there) == {"frame", "weights"}
    assert there["frame"]["columns"] == here["frame"]["columns"] == ["x", "name"]
    assert there["frame"]["rows"] == here["frame"]["rows"]
    assert there["weights"]["shape"] == here["weights"]["shape"] == [2, 3]
    kfp.close()


def test_an_artifact_endpoint_that_refuses_names_the_artifact_and_the_run(
    standin: StandIn, tmp_path: Path, home: Path
) -> None:
    kfp = KfpBackend(host=standin.url)
    run_id = succeeded(kfp, kfp.submit(compiled(tmp_path)).id).id
    standin.inject(Fault(match="GET /artifacts/get?", status=403))
    outputs = Run(kfp, run_id).outputs
    with pytest.raises(Unsupported) as refused:
        outputs["make"]["frame"]
    message = str(refused.value)
    assert (
        "'make'" in message and "refused" in message and f"{standin.url}/#/runs/details/{run_id}" in message
    )
    assert outputs["make"]["frame"].shape == (3, 2)  # asked again once the gateway lets it through
    kfp.close()


def test_the_api_server_alone_says_where_the_artifacts_are(tmp_path: Path, home: Path) -> None:
    server = StandIn(tmp_path / "api-only", ui=False)
    server.start()
    try:
        kfp = KfpBackend(host=server.url)
        run_id = succeeded(kfp, kfp.submit(compiled(tmp_path)).id).id
        assert kfp.capabilities.artifact_download is False
        listed = kfp.artifacts(run_id, "make")[0]
        with pytest.raises(Unsupported, match=rf"artifact .* of step 'make'.*{run_id}"):
            kfp.open_artifact(run_id, "make", listed.name)
        with pytest.raises(Unsupported, match=rf"does not read step output values back.*{run_id}"):
            _ = Run(kfp, run_id).outputs
        kfp.close()
    finally:
        server.stop()


def test_artifacts_of_a_multi_user_kubeflow_come_with_the_namespace_and_token(
    tmp_path: Path, home: Path
) -> None:
    """As a multi-user Kubeflow: the artifact endpoint wants the namespace and a caller who may read it."""
    import urllib.error
    import urllib.request

    server = StandIn(tmp_path / "multi", tokens={"alice": {"team-a"}, "bob": {"team-b"}}, multi_user=True)
    server.start()
    try:
        kfp = KfpBackend(host=server.url, namespace="team-a", existing_token="alice")
        run_id = succeeded(kfp, kfp.submit(compiled(tmp_path)).id).id
        assert Run(kfp, run_id).outputs["fit"]["scale"] == 15
        assert Run(kfp, run_id).outputs["make"]["frame"].shape == (3, 2)
        [asked] = [r for r in server.requests if r.startswith("GET /artifacts/get?")]
        assert "namespace=team-a" in asked

        key = asked.split("key=", 1)[1].split("&", 1)[0]
        for token, namespace, status in (
            ("alice", None, 400),
            ("bob", "team-b", 403),
            ("bob", "team-a", 403),
        ):
            query = f"source=minio&bucket=mlpipeline&key={key}" + (
                f"&namespace={namespace}" if namespace else ""
            )
            request = urllib.request.Request(
                f"{server.url}/artifacts/get?{query}", headers={"Authorization": f"Bearer {token}"}
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=30)
            assert refused.value.code == status, (token, namespace)
        kfp.close()
    finally:
        server.stop()


def test_the_run_view_draws_a_kfp_runs_figures_and_markdown(standin: StandIn, tmp_path: Path) -> None:
    """What the views draw from files (a step's figures, KFP Markdown and HTML) is downloaded once for
    them, through the same endpoint; the view of a KFP run shows what the local one shows."""
    from kfp import compiler

    from jupyter_mlops.widgets.run_widget import RunView

    from .test_kfp_visual_artifacts import visuals

    draw = [
        "%load_ext jupyter_mlops",
        "%%component draw\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.show()\n"
        "points = [1, 2]",
        "%%component total\ntotal = sum(points)",
    ]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in draw]
    nbformat.write(notebook, str(tmp_path / "draw.ipynb"))
    compiler.Compiler().compile(visuals, package_path=str(tmp_path / "visuals.yaml"))

    kfp = KfpBackend(host=standin.url)
    drawn = succeeded(
        kfp, kfp.submit(load_pipeline(pipeline_from_notebook(tmp_path / "draw.ipynb", None))).id
    )
    reported = succeeded(kfp, kfp.submit((tmp_path / "visuals.yaml").read_text()).id)

    figures = RunView(kfp, drawn.id, live=False).step_detail("draw")["figures"]
    assert [f["mime"] for f in figures] == ["image/png"]
    assert [type(f).__name__ for f in Run(kfp, drawn.id).figures("draw")] == ["Image"]
    shown = {v["name"]: v for v in RunView(kfp, reported.id, live=False).step_detail("report")["visuals"]}
    assert "<h1>Results</h1>" in shown["md"]["html"] and shown["page"]["html"] == "<h1>hi</h1>"
    assert shown["met"] == {"name": "met", "kind": "metrics", "values": {"accuracy": 0.85}}
    assert shown["cm"]["labels"] == ["cat", "dog"]  # ClassificationMetrics from its metadata (a struct)

    asked = len([r for r in standin.requests if r.startswith("GET /artifacts/get?")])
    RunView(kfp, reported.id, live=False).step_detail("report")  # a view polling again: nothing asked
    assert len([r for r in standin.requests if r.startswith("GET /artifacts/get?")]) == asked
    kfp.close()

"""Issue 11: KFP's visual artifacts in the run view, as the KFP UI shows them: Markdown rendered, HTML as
written (the view sandboxes both), Metrics as a table, ClassificationMetrics as a confusion matrix and a
ROC curve; from a real kfp pipeline on the local backend."""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.
from pathlib import Path

from kfp import dsl
from kfp.dsl import HTML, ClassificationMetrics, Markdown, Metrics, Output

import jupyter_mlops as mlops
from jupyter_mlops.models import RunState

from .contract import explain
from .pipelines import IMAGE


@dsl.component(base_image=IMAGE)
def report(md: Output[Markdown], page: Output[HTML], cm: Output[ClassificationMetrics], met: Output[Metrics]):
    with open(md.path, "w") as f:
        f.write("# Results\n\n*good* <script>x()</script>\n")
    with open(page.path, "w") as f:
        f.write("<h1>hi</h1>")
    cm.log_confusion_matrix(["cat", "dog"], [[8, 2], [1, 9]])
    cm.log_roc_curve([0.0, 0.1, 1.0], [0.0, 0.8, 1.0], [1.0, 0.5, 0.0])
    met.log_metric("accuracy", 0.85)


@dsl.pipeline(name="visuals")
def visuals() -> None:
    report()


def test_kfp_visual_artifacts_are_drawn_in_the_run_view(home: Path) -> None:
    run = mlops.run(visuals).wait(timeout=300)
    assert run.state is RunState.SUCCEEDED, explain(run.info)
    from jupyter_mlops.widgets import run_view

    shown = {v["name"]: v for v in run_view(run.backend, run.id).step_detail("report")["visuals"]}
    assert shown["md"]["kind"] == "html" and "<h1>Results</h1>" in shown["md"]["html"]
    assert "<em>good</em>" in shown["md"]["html"] and "<script>" not in shown["md"]["html"]  # raw HTML off
    assert shown["page"] == {"name": "page", "kind": "html", "html": "<h1>hi</h1>"}
    assert shown["met"] == {"name": "met", "kind": "metrics", "values": {"accuracy": 0.85}}
    assert shown["cm"]["labels"] == ["cat", "dog"] and shown["cm"]["matrix"] == [[8.0, 2.0], [1.0, 9.0]]
    assert shown["cm"]["roc"] == [[0.0, 0.0, 1.0], [0.1, 0.8, 0.5], [1.0, 1.0, 0.0]]

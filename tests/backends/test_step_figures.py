"""Issue 11: what a step shows is kept, in order, as the notebook would have shown it: matplotlib
figures (Agg in the step, saved at plt.show() and at the cell's end) and display()ed values."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path

from executor.notebook_cells import notebook_pipeline

import jupyter_mlops as mlops
from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.models import RunState

from .contract import explain

PNG = b"\x89PNG\r\n\x1a\n"
DRAW = (
    "%%component draw\n"
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots()\n"
    "ax.plot([1, 2, 3], [3, 1, 2])\n"
    "plt.show()\n"
    "class Note:\n"
    "    def _repr_html_(self):\n"
    "        return '<b>between</b>'\n"
    "display(Note())\n"
    "plt.figure()\n"
    "plt.bar(['a', 'b'], [3, 4])\n"  # left open: saved when the cell ends
    "points = [1, 2]"
)


def test_a_step_drawing_two_figures_shows_both_in_order(home: Path) -> None:
    pipeline = notebook_pipeline([DRAW, "%%component quiet\ntotal = sum(points)"], "figures")
    plan = {s.name: s for s in plan_pipeline(pipeline).steps}
    assert plan["draw"].shows_figures and not plan["quiet"].shows_figures  # only steps that may draw
    run = mlops.run(pipeline).wait(timeout=300)
    assert run.state is RunState.SUCCEEDED, explain(run.info)

    shown = run.figures("draw")
    assert [type(f).__name__ for f in shown] == ["Image", "HTML", "Image"]
    assert all(f.data.startswith(PNG) for f in (shown[0], shown[2]))
    assert shown[1].data == "<b>between</b>"
    assert shown[0].data != shown[2].data  # two different figures
    assert len(run.figures("quiet")) == 0
    assert "mlops_figures" not in run.outputs["draw"] and run.outputs["draw"]["points"] == [1, 2]
    assert "Note object" in run.logs("draw")  # display() also prints the value's text to the log

    from jupyter_mlops.widgets import run_view

    detail = run_view(run.backend, run.id).step_detail("draw")
    assert [f["mime"] for f in detail["figures"]] == ["image/png", "text/html", "image/png"]
    assert base64.b64decode(detail["figures"][0]["data"]).startswith(PNG)
    assert detail["figures"][1]["text"] == "<b>between</b>"
    assert "mlops_figures" not in detail["outputs"]
    json.dumps(detail)  # it travels to the front end as JSON


def test_the_view_carries_a_bounded_amount_of_figures(home: Path) -> None:
    cell = (
        "%%component many\nimport matplotlib.pyplot as plt\nimport numpy as np\n"
        "for i in range(4):\n    plt.figure()\n    plt.imshow(np.random.default_rng(i).random((300, 300)))\n"
    )
    run = mlops.run(notebook_pipeline([cell], "many")).wait(timeout=300)
    assert run.state is RunState.SUCCEEDED, explain(run.info)
    from jupyter_mlops.store.run_figures import figures_artifact, figures_for_view

    artifact = figures_artifact(run.backend.artifacts(run.id), "many")
    every = figures_for_view(artifact)
    assert len(every) == 4 and not any(f.get("omitted") for f in every)
    sizes = [len(base64.b64decode(f["data"])) for f in every]
    some = figures_for_view(artifact, limit=sizes[0] + sizes[1] + min(sizes[2:]) - 1)
    assert [bool(f.get("omitted")) for f in some] == [False, False, True, True]


def test_the_run_view_charts_a_steps_metric_histories(home: Path) -> None:
    cell = (
        "%%component train\nfor i in range(5):\n    log_metric('loss', 1 / (i + 1), step=i * 10)\n"
        "log_metric('acc', 0.9)"
    )
    run = mlops.run(notebook_pipeline([cell], "hist")).wait(timeout=300)
    assert run.state is RunState.SUCCEEDED, explain(run.info)
    from jupyter_mlops.widgets import run_view

    histories = run_view(run.backend, run.id).step_detail("train")["histories"]
    assert histories == {"loss": [[0.0, 1.0], [10.0, 0.5], [20.0, 1 / 3], [30.0, 0.25], [40.0, 0.2]]}


def test_a_long_history_is_thinned_to_a_bounded_number_of_points() -> None:
    from jupyter_mlops.models import MetricPoint
    from jupyter_mlops.render.metric_histories import MAX_POINTS, step_histories

    points = [MetricPoint("r", "s", "loss", 1.0 / (i + 1), index=i) for i in range(100_000)]
    points.append(MetricPoint("r", "other", "loss", 5.0, index=0))
    line = step_histories(points, "s")["loss"]
    assert len(line) == MAX_POINTS and line[0] == [0.0, 1.0] and line[-1][0] == 99_999.0
    assert all(a[0] < b[0] for a, b in itertools.pairwise(line))

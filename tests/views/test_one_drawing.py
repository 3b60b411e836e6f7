"""The DAG of a run is drawn by Python (issue 10): the sidebar's run view shows the server's SVG, the
same drawing every notebook output carries, instead of drawing its own from the layout."""

from __future__ import annotations

import re
from pathlib import Path

from jupyter_mlops.models import RunInfo, RunState, StepInfo, StepState
from jupyter_mlops.render.svg import render_dag_svg, run_layout, step_states
from jupyter_mlops.server.run_json import run_detail

ROOT = Path(__file__).resolve().parents[2]


def test_the_run_detail_carries_the_notebooks_drawing_of_the_dag() -> None:
    steps = [
        StepInfo("make", StepState.SUCCEEDED, started_at=1.0, finished_at=3.5),
        StepInfo("check", StepState.FAILED, started_at=3.5, finished_at=4.0, error="boom"),
        StepInfo("after <check>", StepState.SKIPPED),
    ]
    run = RunInfo(
        "r1", "r", RunState.FAILED, steps=steps, edges=[("make", "check"), ("check", "after <check>")]
    )
    svg = run_detail(run, [])["dag_svg"]
    assert svg == render_dag_svg(run_layout(run), *step_states(run, 0.0))  # what _repr_html_ draws
    nodes = re.findall(r'<g class="mlops-node" data-step="([^"]*)" data-state="([^"]*)">', svg)
    assert nodes == [("make", "SUCCEEDED"), ("check", "FAILED"), ("after &lt;check&gt;", "SKIPPED")]
    assert '<text class="mlops-dur"' in svg and ">2.5s<" in svg


def test_the_sidebar_draws_no_dag_of_its_own() -> None:
    view = (ROOT / "labextension" / "src" / "runview.ts").read_text(encoding="utf-8")
    assert "dag_svg" in view
    assert "createElementNS" not in view and "layout.nodes" not in view and "layout.edges" not in view

"""What nbconvert, GitHub and terminal IPython show of a run: inline SVG and a text summary."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

from jupyter_mlops.models import RunInfo, RunState, StepInfo, StepState
from jupyter_mlops.render import svg as static
from jupyter_mlops.render.layout import layout_dag
from jupyter_mlops.render.style import STATE_STYLES, format_duration
from jupyter_mlops.render.svg import render_dag_svg, render_pipeline_text, render_run_static, render_run_text

from .conftest import make_run


def svg_of(html: str) -> ET.Element:
    match = re.search(r"<svg.*?</svg>", html, re.S)
    assert match, "no inline SVG in the HTML"
    return ET.fromstring(match.group(0))  # well-formed XML, so strict renderers (GitHub) accept it


def test_every_step_is_drawn_in_its_state_colour_with_its_duration(finished_run: RunInfo) -> None:
    html = render_run_static(finished_run)
    svg = svg_of(html)
    ns = "{http://www.w3.org/2000/svg}"
    groups = {g.get("data-step"): g for g in svg.iter(f"{ns}g") if g.get("class") == "mlops-node"}
    assert set(groups) == {"load", "train", "evaluate"}
    for g in groups.values():
        assert g.get("data-state") == "SUCCEEDED"
        rect = g.find(f"{ns}rect")
        assert rect is not None and rect.get("fill") == STATE_STYLES["SUCCEEDED"]["fill"]
    texts = "".join(t.text or "" for t in groups["train"].iter(f"{ns}text"))
    assert "✓" in texts and "1m 14s" in texts  # icon and duration (73.5 s)
    assert "3/3 steps" in html and "SUCCEEDED" in html
    assert "train.acc" in html  # run metrics below the DAG


def test_a_running_step_shows_how_long_it_has_been_running() -> None:
    run = make_run(state=RunState.RUNNING)
    run.steps[1] = StepInfo("train", StepState.RUNNING, started_at=run.created_at + 1.5)
    run.steps[2] = StepInfo("evaluate", StepState.PENDING)
    html = static.render_run_static(run, now=run.created_at + 31.5)
    assert "30s" in html and "1/3 steps" in html
    text = static.render_run_text(run, now=run.created_at + 31.5)
    assert re.search(r"◔ train\s+RUNNING\s+30s", text)
    assert re.search(r"○ evaluate\s+PENDING$", text, re.M)


def test_a_failed_step_shows_its_error_escaped() -> None:
    run = make_run(state=RunState.FAILED)
    run.steps[1] = StepInfo(
        "train",
        StepState.FAILED,
        started_at=1.0,
        finished_at=2.0,
        error="Traceback...\nValueError: <script>x</script>",
    )
    run.steps[2] = StepInfo("evaluate", StepState.SKIPPED)
    html = render_run_static(run)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'data-state="FAILED"' in html and 'data-state="SKIPPED"' in html
    text = render_run_text(run)
    assert "✗ train" in text and "error: ValueError: <script>x</script>" in text
    assert "» evaluate" in text


def test_text_summary_of_a_finished_run(finished_run: RunInfo) -> None:
    text = render_run_text(finished_run)
    first, *steps = text.splitlines()
    assert first == "Run demo (r1): SUCCEEDED, 3/3 steps done, 1m 20s"
    assert steps[:3] == [
        "  ✓ load      SUCCEEDED  1.5s",
        "  ✓ train     SUCCEEDED  1m 14s",
        "  ✓ evaluate  SUCCEEDED  5.0s",
    ]
    assert "metric train.acc = 0.9" in text


def test_step_names_cannot_inject_markup() -> None:
    layout = layout_dag(['a"><script>', "b"], [('a"><script>', "b")], labels={('a"><script>', "b"): "<x>"})
    svg = render_dag_svg(layout)
    ET.fromstring(svg)
    assert "<script>" not in svg and "<x>" not in svg


def test_a_big_dag_is_scaled_to_the_page_by_its_viewbox() -> None:
    names = [f"s{i}" for i in range(40)]
    svg = svg_of(render_dag_svg(layout_dag(names, list(itertools.pairwise(names)))))
    assert float(svg.get("width", "0")) <= 1100
    assert float(svg.get("viewBox", "0 0 0 0").split()[2]) > 5000


def test_pipeline_text_lists_each_step_with_what_it_reads() -> None:
    text = render_pipeline_text(["prep", "train"], [("prep", "train")], {("prep", "train"): "df"})
    assert text.splitlines() == ["Pipeline: 2 steps, 1 edges", "  prep", "  train  <- prep (df)"]


def test_durations_read_short() -> None:
    assert [format_duration(x) for x in (None, 0.42, 12.4, 185, 3725)] == [
        "",
        "0.4s",
        "12s",
        "3m 05s",
        "1h 02m",
    ]


def test_text_lists_steps_in_the_order_the_dag_runs_them_not_the_irs_alphabetical_order(
    finished_run: RunInfo,
) -> None:
    # A run's steps come from the IR, where kfp sorts tasks by name: evaluate, load, train.
    finished_run.steps.sort(key=lambda s: s.name)
    assert [s.name for s in finished_run.steps] == ["evaluate", "load", "train"]
    lines = render_run_text(finished_run).splitlines()[1:4]
    assert [line.split()[1] for line in lines] == ["load", "train", "evaluate"]


def test_text_of_a_run_whose_edges_form_a_cycle_keeps_the_stored_order() -> None:
    run = make_run()
    run.edges = [("load", "train"), ("train", "load")]
    lines = render_run_text(run).splitlines()[1:4]
    assert [line.split()[1] for line in lines] == [s.name for s in run.steps]

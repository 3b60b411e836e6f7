"""The terminal report of a finished run: stages, direct edges only, results read without unpickling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from jupyter_mlops.cli.run_report import direct_edges, run_report, stages
from jupyter_mlops.models import ArtifactInfo, RunInfo, RunState, StepInfo, StepState


def test_stages_and_direct_edges_of_a_diamond_with_a_shortcut() -> None:
    names = ["d", "c", "b", "a"]
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("a", "d")]

    assert stages(names, edges) == [["a"], ["c", "b"], ["d"]]
    assert direct_edges(names, edges) == [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]


def test_report_of_a_failed_run_shows_results_by_kind_and_the_failed_step(tmp_path: Path) -> None:
    (tmp_path / "arr").mkdir()
    np.save(tmp_path / "arr" / "value.npy", np.zeros((3, 2), dtype=np.float32))
    (tmp_path / "obj").mkdir()
    (tmp_path / "obj" / "value.pkl").write_bytes(b"not read")
    (tmp_path / "long").mkdir()
    (tmp_path / "long" / "value.json").write_text(json.dumps(list(range(100))))
    steps = [
        StepInfo("load", StepState.SUCCEEDED, outputs={"result": str(tmp_path / "arr")}),
        StepInfo("fit", StepState.CACHED, outputs={"result": str(tmp_path / "obj")}, metrics={"acc": 0.5}),
        StepInfo("report", StepState.FAILED, outputs={"result": str(tmp_path / "long")}),
    ]
    info = RunInfo("r1", "demo", RunState.FAILED, parameters={"lr": 0.1}, steps=steps)
    info.edges = [("load", "fit"), ("fit", "report")]

    text = run_report(info)

    assert "parameters: lr=0.1" in text
    assert "   1  [✓ load]" in text and "[✗ report]" in text
    assert "load  result: array of shape (3, 2), dtype <f4" in text.replace("    ", "  ")
    assert "  fit     result: (a pkl file)\n          metrics: acc=0.5\n" in text
    assert str(tmp_path) not in text
    assert "result: [0, 1, 2," in text and "…" in text


def test_a_wide_stage_wraps_at_a_terminals_width() -> None:
    steps = [StepInfo("source", StepState.SUCCEEDED)] + [
        StepInfo(f"branch-number-{i:02}", StepState.SUCCEEDED) for i in range(12)
    ]
    info = RunInfo("r2", "wide", RunState.SUCCEEDED, steps=steps)
    info.edges = [("source", s.name) for s in steps[1:]]

    drawing = run_report(info).split("steps:")[0].splitlines()

    assert all(len(line) <= 100 for line in drawing), drawing
    stage_two = [line for line in drawing if "[✓ branch-number-" in line]
    assert len(stage_two) > 1 and stage_two[0].startswith("   2  [✓ branch-number-00]")
    assert all(line.startswith("      [✓") for line in stage_two[1:])
    assert sum(line.count("[✓ branch-number-") for line in stage_two) == 12
    assert drawing[2].startswith("       │  source ─▶ branch-number-00, ")  # one feed longer than a line


def test_an_object_kept_by_its_default_repr_is_named_by_its_class_without_the_address() -> None:
    """A last value pickle could not keep (a pandas Styler) is kept as its repr; the report names its
    class, as for a variable holding such an object."""
    kept = "<pandas.io.formats.style.Styler object at 0x7f547ea73c10>"
    meta = {"format": "repr", "repr": kept, "type": "pandas.io.formats.style.Styler", "variable": "result"}
    meta["preview"] = {"kind": "text", "text": kept}
    steps = [StepInfo("data", StepState.SUCCEEDED, outputs={"result": "/runs/r1/data/result"})]
    info = RunInfo("r1", "demo", RunState.SUCCEEDED, steps=steps)
    artifacts = [ArtifactInfo("r1", "data", "result", "/runs/r1/data/result", "system.Dataset", meta)]

    text = run_report(info, artifacts)

    assert "  data  result: Styler object\n" in text and "0x7f" not in text

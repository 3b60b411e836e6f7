"""A pipeline written with plain kfp (no magics) runs through `mlops.run` with the same outputs as
under kfp's own local runner (kfp.local, SubprocessRunner without venv), run in the same test."""

from __future__ import annotations

from pathlib import Path

import jupyter_mlops as mlops
from jupyter_mlops.models import RunState

from .contract import explain


def test_plain_kfp_pipelines_give_the_same_outputs_as_kfp_local(home: Path, tmp_path: Path) -> None:
    from kfp import local

    from . import pipelines

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "kfp-local"))
    expected_sum = pipelines.arith(a=3, b=4).output
    expected_head = pipelines.report(count=5, values=[2, 4], scale=1.5).output
    expected_description = pipelines.describe(values=[2, 4], scale=1.5, label="x").output
    assert (expected_sum, expected_head) == (17, "line 0\nline 1\n")  # kfp.local really ran them

    arith = mlops.run(pipelines.arith, {"a": 3, "b": 4}).wait(timeout=300)
    report = mlops.run(pipelines.report, {"count": 5, "values": [2, 4], "scale": 1.5}).wait(timeout=300)
    assert arith.state is RunState.SUCCEEDED, explain(arith.info)
    assert report.state is RunState.SUCCEEDED, explain(report.info)
    assert arith.outputs["add-2"]["Output"] == expected_sum
    assert report.outputs["head"]["Output"] == expected_head
    assert report.outputs["describe"]["Output"] == expected_description
    assert report.outputs["count-lines"]["Output"] == 5

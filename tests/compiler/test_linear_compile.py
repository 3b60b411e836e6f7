"""A long pipeline compiles in time that grows with its steps, not their square (issue 15: a 1,000-step
pipeline), to the same IR as kfp makes its own way.

The work is counted, not timed: kfp's name cleaning (once per name with `kfp_names`, n² times without),
the plan's step lookups, the alias flow's reads of the analyses.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import json_format

from jupyter_mlops.analysis.alias_flow import follow_groups
from jupyter_mlops.analysis.cell import analyze_cell
from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.compiler.kfp_ir import _build_pipeline, build_documents, build_yaml
from jupyter_mlops.notebook.pipeline import Pipeline
from jupyter_mlops.notebook.reader import feed_cell, read_notebook
from jupyter_mlops.notebook.workspace import Workspace

from .notebooks import PARAMS, SETUP, STEPS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def chain(n: int, body: str = "v{i}: int = v{p} + 1") -> Pipeline:
    """`n` steps, each reading what the one before made."""
    workspace = Workspace("chain")
    feed_cell(workspace, "%%pipeline params\nx = 0\n", "params")
    feed_cell(workspace, "%%component s0\nv0 = x + 1\n", "cell 0")
    for i in range(1, n):
        feed_cell(workspace, f"%%component s{i}\n{body.format(i=i, p=i - 1)}\n", f"cell {i}")
    return workspace.active


def test_kfp_cleans_each_task_name_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    from kfp.dsl import utils

    calls = 0
    clean = utils.maybe_rename_for_k8s

    def counted(name: str) -> str:
        nonlocal calls
        calls += 1
        return clean(name)

    monkeypatch.setattr(utils, "maybe_rename_for_k8s", counted)
    plan = plan_pipeline(chain(80))
    build_documents(plan)
    remembered = calls
    calls = 0
    _build_pipeline(plan, remember_names=False)  # kfp's own way: every task's name for every task
    assert calls > 80 * 80
    assert remembered < 10 * 80, remembered
    assert utils.maybe_rename_for_k8s is counted  # put back as it was


class _Walked(list):  # type: ignore[type-arg]
    """A list that counts the walks over it."""

    walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.walks += 1
        return super().__iter__()


def test_a_step_is_found_by_name_without_walking_the_steps() -> None:
    plan = plan_pipeline(chain(30))
    steps = _Walked(plan.steps)
    object.__setattr__(plan, "steps", steps)
    for _ in range(50):
        assert plan.step("s29").name == "s29"
        assert plan.step("s0").name == "s0"
    assert steps.walks <= 1
    with pytest.raises(Exception, match="has no step 'nope'"):
        plan.step("nope")


def test_the_alias_flow_reads_each_analysis_a_bounded_number_of_times() -> None:
    n = 120
    reads = 0

    class Counted(type(analyze_cell("x = 1", cell="s"))):  # type: ignore[misc]
        @property
        def all_reads(self) -> frozenset[str]:
            nonlocal reads
            reads += 1
            return self.reads | self.maybe_reads

    steps = []
    for i in range(n):
        analysis = analyze_cell(f"v{i} = [v{i - 1}]" if i else "v0 = [x]", cell=f"s{i}")
        steps.append((f"s{i}", Counted(**{f: getattr(analysis, f) for f in analysis.__dataclass_fields__})))
    flow = follow_groups(steps)
    assert reads <= 3 * n, reads  # was n²/2: the reads of every later step, for each step
    assert flow.groups["s1"] == (frozenset({"x", "v0", "v1"}),)  # each list holds the one before


def _notebooks() -> dict[str, Pipeline]:
    settings = Workspace("settings")
    for index, source in enumerate(
        [
            "%%pipeline params\nn = 3\nrate = 0.5\nnames = ['a', 'b']\n",
            "%%component make --node-selector disk=ssd --cpu 2 --memory 1G --retries 2\n"
            "values = list(range(n))",
            "%%component scale --toleration gpu=true:NoSchedule --timeout 60 --no-cache\n"
            "scaled = [v * rate for v in values]\nscaled",
            "%%component total --after make\nsize = len(scaled) + len(names)\nlog_metric('size', size)",
            "%%component again\nvalues = values + [1]\ntotal2: int = len(values)",
        ],
        start=1,
    ):
        feed_cell(settings, source, f"code cell {index}")
    flow = Workspace("flow")
    for index, source in enumerate([SETUP, PARAMS, *STEPS], start=1):
        feed_cell(flow, source, f"code cell {index}")
    inline_flow = Workspace("inline")
    for index, source in enumerate([SETUP.replace("setup", "setup --inline-runtime", 1), PARAMS, *STEPS]):
        feed_cell(inline_flow, source, f"code cell {index}")
    return {
        "demo": read_notebook(EXAMPLES / "demo.ipynb").active,
        "quickstart": read_notebook(EXAMPLES / "quickstart.ipynb").active,
        "settings": settings.active,
        "flow": flow.active,
        "inline": inline_flow.active,
        "chain of lists": chain(25, "v{i} = [v{p}]"),
        "chain": chain(40),
    }


def test_the_ir_is_kfps_own_on_varied_notebooks(tmp_path: Path) -> None:
    """The faster build gives the IR kfp's own way gives, to the byte of its YAML."""
    from kfp import compiler

    for name, pipeline in _notebooks().items():
        plan = plan_pipeline(pipeline)
        slow = _build_pipeline(plan, remember_names=False)
        fast = _build_pipeline(plan)
        assert json_format.MessageToDict(fast.pipeline_spec) == json_format.MessageToDict(slow.pipeline_spec)
        assert fast.platform_spec == slow.platform_spec, name
        compiler.Compiler().compile(slow, str(tmp_path / "slow.yaml"))
        yaml_text = (tmp_path / "slow.yaml").read_text(encoding="utf-8")
        assert build_yaml(plan) == yaml_text, name
        assert len(plan.steps) >= 2, name

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


def chain(n: int, body: str = "v{i}: int = v{p} + 1", setup: str | None = None) -> Pipeline:
    """`n` steps, each reading what the one before made."""
    workspace = Workspace("chain")
    if setup is not None:
        feed_cell(workspace, setup, "setup")
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


def test_inline_runtime_steps_share_their_runtime_and_each_cell_is_parsed_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With `--inline-runtime`, each step's runtime was specialized and compiled again for its name, and
    whether a pandas frame may travel was decided for every step by parsing every cell (n² parses)."""
    import ast

    from jupyter_mlops.compiler import kfp_ir

    n = 40
    plan = plan_pipeline(chain(n, setup="%%pipeline setup --inline-runtime\nimport math\n"))
    assert plan.inline_runtime
    parses = 0
    parse = ast.parse

    def counted(*args: object, **kwargs: object) -> ast.Module:
        nonlocal parses
        parses += 1
        return parse(*args, **kwargs)  # type: ignore[arg-type]

    from kfp.dsl import component_factory

    reads = 0
    read = component_factory._get_function_source_definition

    def read_counted(func: object) -> str:
        nonlocal reads
        reads += 1
        return read(func)  # type: ignore[arg-type]

    monkeypatch.setattr(component_factory, "_get_function_source_definition", read_counted)
    kfp_ir._runtime_functions.cache_clear()
    monkeypatch.setattr(ast, "parse", counted)
    documents = build_documents(plan)
    assert parses <= 3 * n, parses
    # each runtime function once (kfp read all of them for every step); a step's function not at all,
    # its text known (kfp_sources), but the first one in the process, checked against kfp's reading
    shared = {f for step in plan.steps for f in kfp_ir.runtime_functions(plan, step)}
    assert len(shared) <= reads <= len(shared) + 1, (reads, len(shared))
    assert component_factory._get_function_source_definition is read_counted  # put back
    # s0 (a parameter in, a stored value out), s1 (that value in), the middle ones (an int in and
    # out), the last (nothing out): one runtime each, not one per step
    assert kfp_ir._runtime_functions.cache_info().misses <= 4
    executors = documents[0]["deploymentSpec"]["executors"]
    assert len(executors) == n and all("def _mlops_run_step(" in str(e) for e in executors.values())


def test_no_garbage_collection_runs_while_a_pipeline_compiles() -> None:
    """A compile's objects live until it ends: collecting them over and over was 10-15% of a 1,000-step
    compile. The collector runs again afterwards, and stays off where the process turned it off."""
    import gc
    import sys

    from jupyter_mlops.compiler import compile_documents, compile_yaml

    pipeline = chain(60)
    collections: list[int] = []  # those that ran while the planner or kfp was at work
    outside: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase != "start":
            return
        frame, names = sys._getframe(1), set()
        while frame is not None:
            names.add(frame.f_code.co_name)
            frame = frame.f_back
        compiling = names & {"plan_pipeline", "build_documents", "build_yaml"}
        (collections if compiling else outside).append(info["generation"])

    gc.callbacks.append(seen)
    try:
        assert gc.isenabled()
        compile_documents(pipeline)
        compile_yaml(pipeline)
        assert collections == []
        assert gc.isenabled()
        gc.disable()
        try:
            compile_documents(pipeline)
            assert not gc.isenabled()  # the process's choice is kept
        finally:
            gc.enable()
        kept = [[] for _ in range(100_000)]  # allocations: collections are due
        assert outside and kept  # and collecting goes on outside a compile
        assert collections == []
    finally:
        gc.callbacks.remove(seen)


def test_the_state_change_notes_read_each_steps_reads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The notes on module or class state a later step uses (across_cells._state_notes) made, for
    every step, the list of every later step's reads: n² unions, ~0.1 s of a 1,000-step compile."""
    from jupyter_mlops.analysis.cell import CellAnalysis

    n = 120
    reads = 0
    real = CellAnalysis.all_reads

    def counted(self: CellAnalysis) -> frozenset[str]:
        nonlocal reads
        reads += 1
        return real.fget(self)  # type: ignore[attr-defined, no-any-return]

    body = "v{i}: int = v{p} + 1\nmath.tau = math.pi * 2"  # module state each later step uses
    monkeypatch.setattr(CellAnalysis, "all_reads", property(counted))
    plan = plan_pipeline(chain(n, body=body, setup="%%pipeline setup\nimport math\n"))
    assert reads <= 4 * n, reads
    noted = {note.cell for note in plan.notes if "changes the state of module math" in note.message}
    assert noted == {f"s{i}" for i in range(1, n - 1)}  # each but the last (no later step uses it)


def test_the_planner_reads_what_a_producer_makes_of_each_input_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a later step can load a value (`step_local_value`, a walk of the producer's cell) was
    read twice per input: once to sort the input, again to say why it cannot be loaded."""
    from jupyter_mlops.compiler import planner

    reads = 0
    real = planner.step_local_value

    def counted(tree: object, name: str) -> object:
        nonlocal reads
        reads += 1
        return real(tree, name)  # type: ignore[arg-type]

    monkeypatch.setattr(planner, "step_local_value", counted)
    n = 30
    plan = plan_pipeline(chain(n))
    assert reads <= n, reads  # one input a step (the chain's value before), read once
    assert [sorted(s.inputs) for s in plan.steps][1:3] == [["v0"], ["v1"]]

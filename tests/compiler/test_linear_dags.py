"""kfp builds a DAG of tasks in linear time while our compiler has it build (compiler/kfp_dag.py): the
same IR as kfp's own build, to the byte of its YAML, on a many-cell notebook and on kfp pipelines with
sub-DAGs (conditions, loops, exit handlers, a pipeline used as a component, an importer, a component
used many times, Kubernetes settings), and kfp's own function where its source is not the known one.

The work is counted, not timed: kfp read every task's name for every task of the DAG (n²).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.compiler import kfp_dag, plan_pipeline
from jupyter_mlops.compiler.kfp_ir import _build_pipeline, build_yaml
from jupyter_mlops.notebook.pipeline import Pipeline
from jupyter_mlops.notebook.reader import feed_cell
from jupyter_mlops.notebook.workspace import Workspace

from .kfp_sub_dags import sub_dag_pipelines


def _yaml(pipeline: Any, path: Path) -> str:
    from kfp import compiler

    compiler.Compiler().compile(pipeline, str(path))
    return path.read_text(encoding="utf-8")


def many_cells(n: int) -> Pipeline:
    """`n` cells of several kinds: numbers, lists (stored values), settings, steps run after others,
    steps reading values made far back, a step whose result is shown, metrics."""
    workspace = Workspace("many")
    feed_cell(workspace, "%%pipeline params\nx = 0\nrate = 0.5\nnames = ['a']\n", "params")
    feed_cell(workspace, "%%component s0\nv0: int = x + 1\n", "cell 0")
    for i in range(1, n):
        kind = i % 7
        if kind == 1:
            body = f"%%component s{i} --node-selector disk=ssd --cpu 2\nv{i} = [v{i - 1}] * 2\n"
        elif kind == 2:
            body = f"%%component s{i} --retries 2 --no-cache\nv{i}: int = len(v{i - 1}) + x\n"
        elif kind == 3:
            body = f"%%component s{i} --after s{max(0, i - 3)}\nv{i}: int = v{i - 1} + v{max(0, i - 10)}\n"
        elif kind == 4:
            body = f"%%component s{i} --toleration gpu=true:NoSchedule --timeout 60\nv{i} = v{i - 1} * rate\n"
        elif kind == 5:
            body = f"%%component s{i}\nv{i} = {{'n': v{i - 1}, 'names': names}}\nlog_metric('n', 1)\n"
        elif kind == 6:
            body = f"%%component s{i} --memory 1G\nv{i}: int = len(v{i - 1})\nv{i}\n"
        else:
            body = f"%%component s{i}\nv{i}: int = v{i - 1} + 1\n"
        feed_cell(workspace, body, f"cell {i}")
    return workspace.active


def test_a_many_cell_notebooks_ir_is_kfps_own(tmp_path: Path) -> None:
    from google.protobuf import json_format

    plan = plan_pipeline(many_cells(150))
    slow = _build_pipeline(plan, remember_names=False)  # kfp's own way, all of it
    fast = _build_pipeline(plan)
    assert json_format.MessageToDict(fast.pipeline_spec) == json_format.MessageToDict(slow.pipeline_spec)
    assert fast.platform_spec == slow.platform_spec
    assert fast.platform_spec.platforms  # the Kubernetes settings are in it
    assert build_yaml(plan) == _yaml(slow, tmp_path / "slow.yaml")


def test_kfp_reads_each_tasks_name_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    from kfp.dsl import pipeline_task

    n = 80
    plan = plan_pipeline(many_cells(n))
    reads = 0
    name = pipeline_task.PipelineTask.name

    def counted(task: Any) -> str:
        nonlocal reads
        reads += 1
        return name.fget(task)  # type: ignore[no-any-return]

    monkeypatch.setattr(pipeline_task.PipelineTask, "name", property(counted))
    _build_pipeline(plan, remember_names=False)  # kfp's own way: every task's name for every task
    assert reads > n * n
    reads = 0
    _build_pipeline(plan)
    assert reads < 40 * n, reads
    from kfp.compiler import pipeline_spec_builder

    assert pipeline_spec_builder.build_spec_by_group.__module__ == pipeline_spec_builder.__name__  # put back


def test_kfp_pipelines_with_sub_dags_build_to_kfps_own_ir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kfp import dsl

    built: list[str] = []  # the DAGs the loop built (the others: kfp's function)
    loop = kfp_dag._build_tasks_dag

    def counted(builder: Any, **kwargs: Any) -> None:
        built.append(kwargs["group"].name)
        loop(builder, **kwargs)

    monkeypatch.setattr(kfp_dag, "_build_tasks_dag", counted)
    monkeypatch.setattr(kfp_dag, "MIN_TASKS", 1)  # these DAGs are small
    for name, function in sub_dag_pipelines().items():
        own = dsl.pipeline(name=name)(function.pipeline_func)  # built again, kfp's own way
        built.clear()
        with kfp_dag.linear_dags():
            ours = dsl.pipeline(name=name)(function.pipeline_func)
        assert _yaml(ours, tmp_path / "ours.yaml") == _yaml(own, tmp_path / "own.yaml"), name
        # nested: the `If` branch and the loop's body; not the root, the exit handler, the branches'
        # group (they hold sub-DAGs) nor the `Else` (its task is a pipeline); reused: its root
        assert len(built) == (2 if name == "nested" else 1), (name, built)


def test_another_kfp_function_builds_its_own_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where kfp's DAG builder is not the one the loop was written against, kfp's own function builds."""
    monkeypatch.setattr(kfp_dag, "MIN_TASKS", 1)
    built = 0
    loop = kfp_dag._build_tasks_dag

    def counted(builder: Any, **kwargs: Any) -> None:
        nonlocal built
        built += 1
        loop(builder, **kwargs)

    monkeypatch.setattr(kfp_dag, "_build_tasks_dag", counted)
    plan = plan_pipeline(many_cells(12))
    expected = build_yaml(plan)
    assert built == 1  # the root DAG, by the loop
    monkeypatch.setattr(kfp_dag, "KNOWN_SOURCES", frozenset({"0" * 64}))
    kfp_dag._known.cache_clear()
    try:
        assert build_yaml(plan) == expected
        assert built == 1  # by kfp's function
    finally:
        kfp_dag._known.cache_clear()


def test_a_small_dag_is_left_to_kfp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below `MIN_TASKS` tasks kfp's own function builds (and kfp's source is not read to check it)."""
    built = 0
    loop = kfp_dag._build_tasks_dag

    def counted(builder: Any, **kwargs: Any) -> None:
        nonlocal built
        built += 1
        loop(builder, **kwargs)

    monkeypatch.setattr(kfp_dag, "_build_tasks_dag", counted)
    kfp_dag._known.cache_clear()
    build_yaml(plan_pipeline(many_cells(kfp_dag.MIN_TASKS - 2)))  # a task per cell
    assert (built, kfp_dag._known.cache_info().currsize) == (0, 0)
    build_yaml(plan_pipeline(many_cells(kfp_dag.MIN_TASKS)))
    assert built == 1

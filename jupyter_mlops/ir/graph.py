"""The run's graph: tasks of the IR, instantiated per DAG scope as the run unfolds.

Step names (the ones `plan` lists and `execute` reports):

- a task of the pipeline's root DAG keeps its IR task name: ``train``, ``condition-2``, ``for-loop-4``,
  or the name it was given before kfp made it a Kubernetes name (``make_df`` for ``make-df``: see
  `step_label`), as the KFP UI shows it;
- a task inside a sub-DAG (a ``dsl.If/Elif/Else`` branch, a nested pipeline, an ``dsl.ExitHandler``)
  is ``<parent step>.<task>``: ``condition-branches-1.condition-2.sq``, ``inner.sq``;
- a task inside iteration ``i`` (from 0) of a ``dsl.ParallelFor`` is ``<loop step>[i].<task>``:
  ``for-loop-4[0].sq``, ``for-loop-4[1].sq``.

Groups (conditions, loops, nested pipelines) are steps too, so a drawing can nest their contents. The
iterations of a loop over a task's output are only known at run time: `plan` lists the loop step and
`execute` reports its iteration steps when it expands them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models import StepInfo, StepState
from .limits import check_step_count
from .spec import Json, PipelineIR, task_dependencies
from .values import Artifact


@dataclass(eq=False)
class Scope:
    """One execution of a DAG: its input values and the nodes of its tasks."""

    prefix: str
    params: dict[str, Any]
    artifacts: dict[str, list[Artifact]]
    nodes: dict[str, Node] = field(default_factory=dict)


@dataclass(eq=False)
class Node:
    name: str
    key: str
    task: Json
    component_name: str
    component: Json
    kind: str  # "container" | "importer" | "dag" | "loop" | "iteration"
    scope: Scope  # the scope the node belongs to (where its inputs are resolved)
    parent: Node | None
    deps: list[str]
    info: StepInfo  # what the listener sees; a running step's thread updates it
    state: StepState = StepState.PENDING  # what the scheduler decides on (set only by its thread)
    reported: bool = True  # loop iterations are bookkeeping, not steps
    params_out: dict[str, Any] = field(default_factory=dict)
    artifacts_out: dict[str, list[Artifact]] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    inner: Scope | None = None  # the scope a group node opened
    skip_reason: str = ""  # "condition" (counts as done) or "upstream"/"canceled"
    iteration_limit: int = 0  # a loop's parallelism (0: no limit)


def kind_of(ir: PipelineIR, key: str, task: Mapping[str, Any], component: Mapping[str, Any]) -> str:
    if "parameterIterator" in task or "artifactIterator" in task:
        return "loop"
    if ir.is_dag(component):
        return "dag"
    if ir.is_importer(key, component):
        return "importer"
    return "container"


def loop_items_static(task: Mapping[str, Any]) -> list[Any] | None:
    """A ParallelFor's items when they are written into the IR (a Python list), else None."""
    raw = ((task.get("parameterIterator") or {}).get("items") or {}).get("raw")
    if raw is None:
        return None
    items = json.loads(raw) if isinstance(raw, str) else raw
    return list(items) if isinstance(items, list) else None


def dag_tasks(component: Mapping[str, Any]) -> Mapping[str, Json]:
    tasks: Mapping[str, Json] = (component.get("dag") or {}).get("tasks", {}) or {}
    return tasks


_NOT_K8S = re.compile(r"[^-0-9a-z]+")


def step_label(key: str, task: Mapping[str, Any]) -> str:
    """The name a task's step has: its display name (`taskInfo.name`, set by `task.set_display_name`;
    a notebook step's name as the user wrote it) when that is a Python identifier that kfp turned into
    exactly `key` (so it names no other task of its DAG), else the task's key itself."""
    label = str((task.get("taskInfo") or {}).get("name") or "")
    if label == key or not label.isidentifier():
        return key
    return label if _NOT_K8S.sub("-", label.lower()).strip("-") == key else key


def static_steps(
    ir: PipelineIR, tasks: Mapping[str, Json], prefix: str, parent: str | None
) -> Iterator[tuple[str, list[str]]]:
    """(step name, upstream step names) for every step knowable before the run, depth first."""
    for key, task in tasks.items():
        name = prefix + step_label(key, task)
        deps = [prefix + step_label(d, tasks[d]) for d in task_dependencies(task) if d in tasks]
        if parent is not None and not deps:
            deps = [parent]  # a group's first steps hang off the group
        yield name, deps
        _, component = ir.component(name, task)
        kind = kind_of(ir, key, task, component)
        if kind == "dag":
            yield from static_steps(ir, dag_tasks(component), name + ".", name)
        elif kind == "loop":
            items = loop_items_static(task)
            for i in range(len(items or [])):
                yield from static_steps(ir, dag_tasks(component), f"{name}[{i}].", name)


def plan_of(ir: PipelineIR) -> tuple[list[str], list[tuple[str, str]]]:
    if ir.static_plan is not None:
        return ir.static_plan
    names: list[str] = []
    edges: list[tuple[str, str]] = []
    for name, deps in static_steps(ir, dag_tasks(ir.root), "", None):
        names.append(name)
        check_step_count(len(names))  # stops a plan of nested loops early, not after 90,000 steps
        edges += [(d, name) for d in deps]
    ir.static_plan = names, edges
    return names, edges

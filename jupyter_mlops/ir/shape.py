"""The shape of a PipelineSpec, checked before anything walks it.

A YAML posted to the server or handed to `mlops.run` is read as plain data; a mapping where a number
stands (`root: 1`), a `componentRef: 5`, or a sub-DAG that runs itself would otherwise surface as a
TypeError, an AttributeError or a RecursionError deep in the scheduler. Each becomes a PipelineError
that names the field (as a dotted path) and what it should be.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import PipelineError


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _mapping(value: Any, where: str, what: str = "a mapping") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PipelineError(
            f"the pipeline spec's {where!r} must be {what}, got {_kind(value)}: {value!r:.80}"
        )
    return value


def _optional_mapping(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key)
    return {} if value is None else _mapping(value, f"{where}.{key}" if where else key)


def check_shape(pipeline: Mapping[str, Any]) -> None:
    """Raise a PipelineError naming the first field whose shape the engine cannot read."""
    root = _mapping(pipeline.get("root"), "root", "a mapping with a 'dag' of tasks")
    components = _optional_mapping(pipeline, "components", "")
    for name, component in components.items():
        _mapping(component, f"components.{name}")
    executors = _optional_mapping(
        _optional_mapping(pipeline, "deploymentSpec", ""), "executors", "deploymentSpec"
    )
    for label, executor in executors.items():
        _mapping(executor, f"deploymentSpec.executors.{label}")
    _mapping(pipeline.get("pipelineInfo", {}), "pipelineInfo")

    refs = {"root": _dag_refs(root, "root")}
    for name, component in components.items():
        refs[f"components.{name}"] = _dag_refs(component, f"components.{name}")
    _refuse_cycles(refs)


def _dag_refs(component: Mapping[str, Any], where: str) -> list[str]:
    """The components this one's DAG runs (checking each task's shape on the way)."""
    dag = _optional_mapping(component, "dag", where)
    tasks = _optional_mapping(dag, "tasks", f"{where}.dag")
    refs = []
    for key, task in tasks.items():
        at = f"{where}.dag.tasks.{key}"
        task = _mapping(task, at)
        ref = _mapping(task.get("componentRef"), f"{at}.componentRef", "a mapping with a component 'name'")
        name = ref.get("name")
        if not isinstance(name, str):
            raise PipelineError(
                f"the pipeline spec's {at + '.componentRef.name'!r} must be a string, got {name!r:.80}"
            )
        for field in ("inputs", "taskInfo", "triggerPolicy", "parameterIterator", "artifactIterator"):
            _optional_mapping(task, field, at)
        if not isinstance(task.get("dependentTasks", []) or [], list):
            raise PipelineError(
                f"the pipeline spec's {at + '.dependentTasks'!r} must be a list of task names"
            )
        refs.append(name)
    return refs


def _refuse_cycles(refs: dict[str, list[str]]) -> None:
    """A component whose DAG runs itself, directly or through others, never ends: refuse it.

    Iterative depth-first search, so a deep (but finite) nesting cannot overflow Python's stack."""
    done: set[str] = set()
    for start in refs:
        if start in done:
            continue
        path = [start]
        stack = [iter(refs[start])]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                done.add(path.pop())
                stack.pop()
                continue
            node = f"components.{child}"
            if node in path:
                loop = " -> ".join(p.removeprefix("components.") for p in [*path[path.index(node) :], node])
                raise PipelineError(f"component {child!r} contains itself ({loop}): its DAG would never end")
            if node in done or node not in refs:  # an unknown name is reported when the task runs
                continue
            path.append(node)
            stack.append(iter(refs[node]))

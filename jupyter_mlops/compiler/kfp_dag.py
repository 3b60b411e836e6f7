"""kfp's building of a DAG of plain tasks, in time linear in its tasks, while the compiler has kfp build
a pipeline: the same IR, the same kfp functions making each part of it.

kfp (2.17) builds each DAG's IR in `pipeline_spec_builder.build_spec_by_group`. For each task of the
DAG it makes again the list of the names of all the DAG's tasks (one property read and one name
cleaning per task and task), and the lists of all the executors' and all the components' names made
so far (each a walk of a protobuf map through Python's `KeysView`), to find a free name in them: n²
steps, ~170 ms of a 1,000-step notebook's ~800 ms compile here.

While `linear_dags()` is active, that function (which kfp's `create_pipeline_spec` calls through its
module) is, for a DAG whose members are all tasks of container components (a notebook pipeline's
root: one task per step), a loop that makes the task names' list once per DAG, and keeps the
executors' and components' names taken in two sets as it adds to them. Everything else is kfp's own
functions, called in kfp's order with the same arguments: each task's spec, component spec,
container spec and platform spec, its dependencies (sorted, cleaned), kfp's adjustment for
`ignore_upstream_failure`, kfp's unique-name helper (given a set to look in, as `in` asks no more of
it), and the deployment spec from the executors at the end (kfp's `Struct.update` of the executors'
`MessageToDict`, made without the dicts in between: `ir_dicts.update_struct`). Any other DAG
(sub-DAGs: conditions, loops, exit handlers, pipelines used as components, importers) is built by
kfp's function itself.

The loop mirrors kfp's function as this kfp version wrote it: it is used only when that function's
source is the one it was written against (its SHA-256, checked once per process); another kfp builds
its own way. The IR is compared, to the byte of kfp's YAML, with kfp's own build in
tests/compiler/test_linear_compile.py and tests/compiler/test_linear_dags.py.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# sha256 of `inspect.getsource(kfp.compiler.pipeline_spec_builder.build_spec_by_group)`, kfp 2.17.3
KNOWN_SOURCES = frozenset({"68d92d5b23be74f621c00a92f2b5678a2c76f20a81434bd739167853e2ed9d84"})
_NAME = "build_spec_by_group"
# A DAG of fewer tasks is left to kfp's function: its n² is a few ms at most, and the check of kfp's
# source (~4 ms, once per process) is then not made for a small pipeline (the CLI's compile of one)
MIN_TASKS = 64


@functools.lru_cache(maxsize=8)
def _known(function: Callable[..., Any]) -> bool:
    """Whether `function` is kfp's DAG builder as this module was written against."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    return hashlib.sha256(source.encode()).hexdigest() in KNOWN_SOURCES


class _TaskNames(list):  # type: ignore[type-arg]
    """The names of a DAG's tasks, as kfp's list of them, asked `in` through a set."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self._set = frozenset(names)

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._set
        except TypeError:  # not hashable: as a list answers
            return any(name == n for n in self)


def _plain_tasks(group: Any) -> bool:
    """Whether every member of `group` is a task of a container component (no sub-DAG)."""
    from kfp.dsl import pipeline_task

    return not group.groups and all(
        isinstance(task, pipeline_task.PipelineTask) and task.container_spec is not None
        for task in group.tasks
    )


def _build_tasks_dag(
    builder: Any,
    *,
    pipeline_spec: Any,
    deployment_config: Any,
    group: Any,
    dependencies: Any,
    rootgroup_name: str,
    platform_spec: Any,
    is_compiled_component: bool,
) -> None:
    """kfp's `build_spec_by_group` for a DAG of container tasks (`_plain_tasks`), in kfp's order."""
    from kfp.dsl import utils

    from .ir_dicts import update_struct

    if group.name == rootgroup_name:
        dag_spec = pipeline_spec.root
    else:
        dag_spec = pipeline_spec.components[utils.sanitize_component_name(group.name)]
    tasks = group.groups + group.tasks
    in_dag = _TaskNames([utils.sanitize_task_name(task.name) for task in tasks])
    executors = set(deployment_config.executors)  # the names taken so far, as kfp lists them per task
    components = set(pipeline_spec.components)
    for task in tasks:
        component_name = utils.sanitize_component_name(task.name)
        task_spec = builder.build_task_spec_for_task(
            task=task, parent_component_inputs=dag_spec.input_definitions, tasks_in_current_dag=in_dag
        )
        component_spec = builder.build_component_spec_for_task(
            task=task, is_compiled_component=is_compiled_component
        )
        if not component_spec.executor_label:  # kfp always labels a container task's executor
            raise RuntimeError(f"kfp gave task {task.name!r} no executor label")
        label = utils.make_name_unique_by_adding_index(
            name=component_spec.executor_label, collection=executors, delimiter="-"
        )
        component_spec.executor_label = label
        deployment_config.executors[label].container.CopyFrom(
            builder.build_container_spec_for_task(task=task)
        )
        executors.add(label)
        builder.merge_platform_specs(
            platform_spec,
            builder.platform_config_to_platform_spec(
                task.platform_config,
                label,
                parent_component_inputs=dag_spec.input_definitions,
                tasks_in_current_dag=in_dag,
            ),
        )
        if dependencies.get(task.name, None):
            task_spec.dependent_tasks.extend(
                [utils.sanitize_task_name(dep) for dep in sorted(dependencies[task.name])]
            )
        builder.modify_task_for_ignore_upstream_failure(task=task, pipeline_task_spec=task_spec)
        component_name = utils.make_name_unique_by_adding_index(
            name=component_name, collection=components, delimiter="-"
        )
        components.add(component_name)
        task_spec.component_ref.name = component_name
        pipeline_spec.components[component_name].CopyFrom(component_spec)
        dag_spec.dag.tasks[task.name].CopyFrom(task_spec)
    update_struct(pipeline_spec.deployment_spec, deployment_config)  # kfp's update(MessageToDict(...))


@contextmanager
def linear_dags() -> Iterator[None]:
    """While active, kfp builds a DAG of `MIN_TASKS` container tasks or more in linear time (this
    module's loop), any other DAG its own way; a kfp whose DAG builder is not the known one builds as
    it is."""
    from kfp.compiler import pipeline_spec_builder as builder

    own: Callable[..., Any] | None = getattr(builder, _NAME, None)
    if own is None:
        yield
        return

    def build_spec_by_group(*args: Any, **kwargs: Any) -> None:
        group = kwargs.get("group")
        large = group is not None and len(group.groups) + len(group.tasks) >= MIN_TASKS
        if not args and large and _plain_tasks(group) and _known(own):
            _build_tasks_dag(
                builder,
                **{
                    k: kwargs[k]
                    for k in (
                        "pipeline_spec",
                        "deployment_config",
                        "group",
                        "dependencies",
                        "rootgroup_name",
                        "platform_spec",
                        "is_compiled_component",
                    )
                },
            )
        else:
            own(*args, **kwargs)

    setattr(builder, _NAME, build_spec_by_group)
    try:
        yield
    finally:
        setattr(builder, _NAME, own)

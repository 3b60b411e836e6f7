"""Execute compiled KFP IR on this machine: the scheduler.

`execute` walks the pipeline's DAG, opening a scope for every sub-DAG (condition branch, nested
pipeline, loop iteration) when it becomes ready, and runs each ready container task on a thread
of its own (up to `max_workers` at once) through `steps.ContainerStep`, which uses kfp's own
executor in a process forked from a pre-warmed worker. Only this thread changes the graph; step
threads hand their outcome back through a queue. Step naming is described in `graph.py`.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MlopsError, PipelineError
from ..models import ArtifactInfo, RunState, StepInfo, StepState
from . import processes
from .cache import StepCache
from .conditions import evaluate
from .graph import Node, Scope, dag_tasks, kind_of, plan_of, static_steps
from .ir import Json, PipelineIR, task_dependencies
from .prelude import Environments
from .steps import ContainerStep, Listener, StepContext, StepOutcome, snapshot
from .values import Artifact, apply_selector, cast_parameter, pipeline_arguments

ExecutionListener = Listener


@dataclass
class ExecutionOptions:
    # this run's directory: artifacts under workdir/artifacts/<step>/<output>, temp files under workdir/tmp
    workdir: Path
    cache_dir: Path | None  # the shared cache root (step cache and venvs); None: no step cache
    cache: bool = True  # False: a --no-cache run neither reads nor writes the step cache
    max_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    python: str = sys.executable  # interpreter for steps whose packages it satisfies
    run_id: str = ""  # copied into ArtifactInfo.run_id and MetricPoint.run_id
    fork: bool = True  # use the pre-warmed forking worker where the OS has fork (Linux)


def plan(spec: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[tuple[str, str]]]:
    """Steps and edges (upstream, downstream) known before the run, with the names `execute` reports."""
    return plan_of(PipelineIR(spec))


def validate(spec: Sequence[Mapping[str, Any]], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The pipeline's typed arguments, or a UsageError/PipelineError saying what is wrong."""
    ir = PipelineIR(spec)
    plan_of(ir)
    return pipeline_arguments(ir.root, arguments)


def execute(
    spec: Sequence[Mapping[str, Any]],
    arguments: Mapping[str, Any],
    options: ExecutionOptions,
    listener: ExecutionListener,
    cancel: threading.Event,
) -> tuple[RunState, str | None]:
    """Run the pipeline to the end; the final run state and, unless it succeeded, why."""
    try:
        ir = PipelineIR(spec)
        values = pipeline_arguments(ir.root, arguments)
    except MlopsError as e:
        return RunState.FAILED, str(e)
    worker = processes.ForkWorker(options.python) if options.fork and processes.fork_supported() else None
    if worker is not None:
        worker.start()  # its kfp import overlaps with the cache lookups of the first steps
    cache_root = options.cache_dir
    ctx = StepContext(
        ir=ir,
        workdir=options.workdir,
        run_id=options.run_id,
        python=options.python,
        listener=listener,
        cancel=cancel,
        environments=Environments(options.python, (cache_root or options.workdir / "tmp") / "venvs"),
        cache=StepCache(cache_root) if cache_root is not None and options.cache else None,
        worker=worker,
    )
    try:
        return _Scheduler(ctx, max(1, options.max_workers)).run(values)
    finally:
        if worker is not None:
            worker.close()


class _Scheduler:
    def __init__(self, ctx: StepContext, max_workers: int) -> None:
        self.ctx = ctx
        self.ir = ctx.ir
        self.max_workers = max_workers
        self.pool = ThreadPoolExecutor(max_workers, thread_name_prefix="step")
        self.events: queue.Queue[tuple[Node, StepOutcome]] = queue.Queue()
        self.waiting: list[Node] = []
        self.roots: list[Node] = []
        self.running = 0
        self.canceled = False
        self.failures: list[tuple[float, str]] = []

    def run(self, values: dict[str, Any]) -> tuple[RunState, str | None]:
        try:
            root = Scope(prefix="", params=values, artifacts={})
            try:
                self.roots = self._instantiate(root, dag_tasks(self.ir.root), None)
            except MlopsError as e:
                return RunState.FAILED, str(e)
            while not all(n.state.terminal for n in self.roots):
                if self.ctx.cancel.is_set() and not self.canceled:
                    self._cancel_pending()
                progressed = self._advance()
                if self.running == 0 and not progressed:
                    self._fail_stuck()  # nothing runs and nothing can start: it never will
                    continue
                try:
                    node, outcome = self.events.get(timeout=0.1 if self.running == 0 else 0.05)
                except queue.Empty:
                    continue
                self._container_done(node, outcome)
                while True:
                    try:
                        node, outcome = self.events.get_nowait()
                    except queue.Empty:
                        break
                    self._container_done(node, outcome)
        finally:
            self.pool.shutdown(wait=True)
        if self.canceled:
            return RunState.CANCELED, "the run was canceled"
        if self.failures:
            return RunState.FAILED, sorted(self.failures)[0][1]
        return RunState.SUCCEEDED, None

    # -- building the graph ---------------------------------------------------------------------

    def _instantiate(self, scope: Scope, tasks: Mapping[str, Json], parent: Node | None) -> list[Node]:
        nodes = []
        for key, task in tasks.items():
            name = scope.prefix + key
            component_name, component = self.ir.component(name, task)
            node = Node(
                name=name,
                key=key,
                task=task,
                component_name=component_name,
                component=component,
                kind=kind_of(self.ir, key, task, component),
                scope=scope,
                parent=parent,
                deps=[d for d in task_dependencies(task) if d in tasks],
                info=StepInfo(name=name, component=component_name.removeprefix("comp-")),
            )
            scope.nodes[key] = node
            nodes.append(node)
            self.waiting.append(node)
            self._report(node)
        if parent is not None:
            parent.children = nodes
        return nodes

    # -- scheduling -----------------------------------------------------------------------------

    def _advance(self) -> bool:
        progressed = False
        changed = True
        while changed:
            changed = False
            for node in list(self.waiting):
                if node.state != StepState.PENDING:
                    self.waiting.remove(node)
                elif self._try_start(node):
                    if node in self.waiting:
                        self.waiting.remove(node)
                    changed = progressed = True
        return progressed

    def _try_start(self, node: Node) -> bool:
        """Start, skip or fail `node` if it is ready; False if it must wait."""
        if self.canceled:
            self._skip(node, "canceled")
            return True
        if node.kind == "iteration":
            return self._try_start_iteration(node)
        deps = [node.scope.nodes[d] for d in node.deps]
        if not all(d.state.terminal for d in deps):
            return False
        policy = node.task.get("triggerPolicy") or {}
        broken = [d for d in deps if _broken(d)]
        if broken and policy.get("strategy") != "ALL_UPSTREAM_TASKS_COMPLETED":
            self._skip(node, "upstream")
            return True
        if node.kind == "container" and self.running >= self.max_workers:
            return False
        try:
            params, artifacts = self._resolve(node)
            condition = str(policy.get("condition") or "")
            if condition and not evaluate(condition, params):
                self._skip(node, "condition")
                return True
            if node.kind == "container":
                self._start_container(node, params, artifacts)
            elif node.kind == "importer":
                self._run_importer(node, params)
            elif node.kind == "loop":
                self._start_loop(node, params, artifacts)
            else:
                self._start_group(node, params, artifacts, node.name + ".")
        except MlopsError as e:
            self._fail(node, str(e))
        return True

    def _start_container(
        self, node: Node, params: dict[str, Any], artifacts: dict[str, list[Artifact]]
    ) -> None:
        node.state = StepState.RUNNING
        self.running += 1
        step = ContainerStep(self.ctx, node.info, node.task, node.component, params, artifacts)

        def run() -> None:
            try:
                outcome = step.run()
            except BaseException as e:  # never leave the scheduler waiting for this step
                outcome = StepOutcome(StepState.FAILED, {}, {}, f"internal error running the step: {e!r}")
                node.info.state, node.info.error, node.info.finished_at = (
                    StepState.FAILED,
                    outcome.error,
                    time.time(),
                )
                self.ctx.listener.on_step(snapshot(node.info))
            self.events.put((node, outcome))

        self.pool.submit(run)

    def _container_done(self, node: Node, outcome: StepOutcome) -> None:
        self.running -= 1
        node.params_out, node.artifacts_out = outcome.params, outcome.artifacts
        node.state = outcome.state
        if outcome.state == StepState.FAILED:
            self.failures.append(
                (node.info.finished_at or time.time(), f"step {node.name!r} failed: {outcome.error}")
            )
        self._child_done(node.parent)

    def _run_importer(self, node: Node, params: dict[str, Any]) -> None:
        spec = self.ir.importer(node.name, node.component)
        source = spec.get("artifactUri") or {}
        uri = (
            source.get("constant")
            if "constant" in source
            else params.get(str(source.get("runtimeParameter")))
        )
        if isinstance(uri, Mapping):  # older IR: {"stringValue": ...}
            uri = uri.get("stringValue")
        schema = spec.get("typeSchema") or {}
        artifact = Artifact(
            name="artifact",
            uri=str(uri),
            schema_title=str(schema.get("schemaTitle", "system.Artifact")),
            schema_version=str(schema.get("schemaVersion", "0.0.1")),
            metadata=dict(spec.get("metadata") or {}),
        )
        node.artifacts_out = {"artifact": [artifact]}
        now = time.time()
        node.info.started_at = node.info.finished_at = now
        node.info.outputs = {"artifact": artifact.uri}
        self.ctx.listener.on_artifact(
            ArtifactInfo(
                self.ctx.run_id, node.name, "artifact", artifact.uri, artifact.schema_title, artifact.metadata
            )
        )
        self._set(node, StepState.SUCCEEDED)
        self._child_done(node.parent)

    # -- groups ---------------------------------------------------------------------------------

    def _start_group(
        self, node: Node, params: dict[str, Any], artifacts: dict[str, list[Artifact]], prefix: str
    ) -> None:
        node.info.inputs = dict(params)
        node.info.started_at = time.time()
        self._set(node, StepState.RUNNING)
        node.inner = Scope(prefix=prefix, params=params, artifacts=artifacts)
        children = self._instantiate(node.inner, dag_tasks(node.component), node)
        if not children:
            self._finish_group(node)

    def _start_loop(self, node: Node, params: dict[str, Any], artifacts: dict[str, list[Artifact]]) -> None:
        node.info.inputs = dict(params)
        node.info.started_at = time.time()
        self._set(node, StepState.RUNNING)
        iterator = node.task.get("parameterIterator") or node.task.get("artifactIterator") or {}
        item_input = str(iterator.get("itemInput", ""))
        source = iterator.get("items") or {}
        items: list[Any]
        if "parameterIterator" in node.task:
            if "raw" in source:
                raw = source["raw"]
                items = json.loads(raw) if isinstance(raw, str) else list(raw)
            else:
                items = params.get(str(source.get("inputParameter")))  # type: ignore[assignment]
                if isinstance(items, str):
                    items = json.loads(items)
            if not isinstance(items, list):
                raise PipelineError(
                    f"step {node.name!r}: ParallelFor needs a list to loop over, got {items!r}"
                )
        else:
            items = list(artifacts.get(str(source.get("inputArtifact")), []))
        node.iteration_limit = int((node.task.get("iteratorPolicy") or {}).get("parallelismLimit", 0) or 0)
        iterations = []
        for i, item in enumerate(items):
            it_params, it_artifacts = dict(params), dict(artifacts)
            if "parameterIterator" in node.task:
                it_params[item_input] = item
            else:
                it_artifacts[item_input] = [item]
            iteration = Node(
                name=f"{node.name}[{i}]",
                key=str(i),
                task=node.task,
                component_name=node.component_name,
                component=node.component,
                kind="iteration",
                scope=node.scope,
                parent=node,
                deps=[],
                info=StepInfo(name=f"{node.name}[{i}]"),
                reported=False,
                inner=Scope(prefix=f"{node.name}[{i}].", params=it_params, artifacts=it_artifacts),
            )
            iterations.append(iteration)
            self.waiting.append(iteration)
        node.children = iterations
        if not iterations:
            self._finish_group(node)

    def _try_start_iteration(self, node: Node) -> bool:
        loop = node.parent
        assert loop is not None and node.inner is not None
        if loop.iteration_limit:
            active = sum(1 for c in loop.children if c.state == StepState.RUNNING)
            if active >= loop.iteration_limit:
                return False
        node.state = node.info.state = StepState.RUNNING
        children = self._instantiate(node.inner, dag_tasks(node.component), node)
        if not children:
            self._finish_group(node)
        return True

    def _child_done(self, parent: Node | None) -> None:
        if (
            parent is not None
            and parent.state == StepState.RUNNING
            and all(c.state.terminal for c in parent.children)
        ):
            self._finish_group(parent)

    def _finish_group(self, node: Node) -> None:
        states = {c.state for c in node.children}
        if StepState.FAILED in states:
            failed = [c.name for c in node.children if c.state == StepState.FAILED]
            node.info.error = f"failed step(s): {', '.join(failed)}"
            state = StepState.FAILED
        elif self.canceled and (
            StepState.CANCELED in states or any(c.skip_reason == "canceled" for c in node.children)
        ):
            state = StepState.CANCELED
        else:
            state = StepState.SUCCEEDED
            try:
                self._group_outputs(node)
            except MlopsError as e:
                node.info.error, state = str(e), StepState.FAILED
                self.failures.append((time.time(), f"step {node.name!r} failed: {e}"))
        node.info.finished_at = time.time()
        self._set(node, state)
        self._child_done(node.parent)

    def _group_outputs(self, node: Node) -> None:
        outputs = (node.component.get("dag") or {}).get("outputs") or {}
        scopes = (
            [c.inner for c in node.children if c.inner is not None] if node.kind == "loop" else [node.inner]
        )
        for key, spec in (outputs.get("parameters") or {}).items():
            selectors = spec.get("valueFromOneof", {}).get("parameterSelectors") or [
                spec.get("valueFromParameter")
            ]
            values = []
            for scope in scopes:
                assert scope is not None
                found = [
                    scope.nodes[s["producerSubtask"]].params_out[s["outputParameterKey"]]
                    for s in selectors
                    if s and s.get("outputParameterKey") in scope.nodes[s["producerSubtask"]].params_out
                ]
                values.extend(found[:1])
            if node.kind == "loop":
                node.params_out[key] = values
            elif values:
                node.params_out[key] = values[0]
        for key, spec in (outputs.get("artifacts") or {}).items():
            selectors = spec.get("artifactSelectors") or []
            collected: list[Artifact] = []
            for scope in scopes:
                assert scope is not None
                for s in selectors:
                    group = scope.nodes[s["producerSubtask"]].artifacts_out.get(s["outputArtifactKey"])
                    if group:
                        collected.extend(group)
                        break
            if collected or node.kind == "loop":
                node.artifacts_out[key] = collected
        node.info.outputs = dict(node.params_out)
        node.info.outputs.update({k: [a.uri for a in g] for k, g in node.artifacts_out.items()})

    # -- inputs ---------------------------------------------------------------------------------

    def _resolve(self, node: Node) -> tuple[dict[str, Any], dict[str, list[Artifact]]]:
        scope, where = node.scope, f"step {node.name!r}"
        inputs = node.task.get("inputs") or {}
        params: dict[str, Any] = {}
        for name, spec in (inputs.get("parameters") or {}).items():
            if "componentInputParameter" in spec:
                source = str(spec["componentInputParameter"])
                if source not in scope.params:
                    continue  # not given: the component's default applies
                value = scope.params[source]
            elif "taskOutputParameter" in spec:
                ref = spec["taskOutputParameter"]
                producer = scope.nodes[str(ref["producerTask"])]
                if ref["outputParameterKey"] not in producer.params_out:
                    raise PipelineError(_no_output(where, name, producer, str(ref["outputParameterKey"])))
                value = producer.params_out[ref["outputParameterKey"]]
            elif "runtimeValue" in spec:
                value = spec["runtimeValue"].get("constant")
                if value is None and "constantValue" in spec["runtimeValue"]:  # older IR
                    value = next(iter(spec["runtimeValue"]["constantValue"].values()), None)
            elif "taskFinalStatus" in spec:
                producer = scope.nodes[str(spec["taskFinalStatus"]["producerTask"])]
                value = {
                    "state": producer.state.value,
                    "pipelineJobResourceName": self.ctx.run_id,
                    "pipelineTaskName": producer.name,
                    "error": {
                        "code": 0 if producer.state != StepState.FAILED else 1,
                        "message": producer.info.error or "",
                    },
                }
            else:
                raise PipelineError(f"{where}: input {name!r} has an unsupported source {sorted(spec)}")
            if spec.get("parameterExpressionSelector"):
                value = apply_selector(
                    value, str(spec["parameterExpressionSelector"]), f"{where}, input {name!r}"
                )
            params[name] = value
        artifacts: dict[str, list[Artifact]] = {}
        for name, spec in (inputs.get("artifacts") or {}).items():
            if "componentInputArtifact" in spec:
                group = scope.artifacts.get(str(spec["componentInputArtifact"]))
                if group is None:
                    continue
            elif "taskOutputArtifact" in spec:
                ref = spec["taskOutputArtifact"]
                producer = scope.nodes[str(ref["producerTask"])]
                group = producer.artifacts_out.get(str(ref["outputArtifactKey"]))
                if group is None:
                    raise PipelineError(_no_output(where, name, producer, str(ref["outputArtifactKey"])))
            else:
                raise PipelineError(
                    f"{where}: input artifact {name!r} has an unsupported source {sorted(spec)}"
                )
            artifacts[name] = group
        if node.kind == "container":
            definitions = (node.component.get("inputDefinitions") or {}).get("parameters") or {}
            for name, definition in definitions.items():
                ptype = str(definition.get("parameterType", ""))
                if name in params:
                    params[name] = cast_parameter(params[name], ptype, f"{where}, input {name!r}")
                elif "defaultValue" in definition:
                    params[name] = cast_parameter(
                        definition["defaultValue"], ptype, f"{where}, input {name!r}"
                    )
        return params, artifacts

    # -- states ---------------------------------------------------------------------------------

    def _set(self, node: Node, state: StepState) -> None:
        node.state = node.info.state = state
        self._report(node)

    def _report(self, node: Node) -> None:
        if node.reported:
            self.ctx.listener.on_step(snapshot(node.info))

    def _skip(self, node: Node, reason: str) -> None:
        node.skip_reason = reason
        self._set(node, StepState.SKIPPED)
        self._skip_unopened_contents(node)
        self._child_done(node.parent)

    def _skip_unopened_contents(self, node: Node) -> None:
        """A group that never opened: the steps inside it that `plan` listed will not run either."""
        if node.children:
            return
        if node.kind in ("dag", "loop") and node.inner is None:
            names = [n for n, _ in static_steps(self.ir, {node.key: node.task}, node.scope.prefix, None)]
        elif node.kind == "iteration" and node.inner is not None:
            names = [n for n, _ in static_steps(self.ir, dag_tasks(node.component), node.inner.prefix, None)]
        else:
            return
        for name in names:
            if name != node.name:
                self.ctx.listener.on_step(StepInfo(name=name, state=StepState.SKIPPED))

    def _fail(self, node: Node, error: str) -> None:
        now = time.time()
        node.info.error = error
        node.info.started_at = node.info.started_at or now
        node.info.finished_at = now
        self.failures.append((now, f"step {node.name!r} failed: {error}"))
        self._set(node, StepState.FAILED)
        self._skip_unopened_contents(node)
        self._child_done(node.parent)

    def _fail_stuck(self) -> None:
        for node in list(self.waiting):
            if node.state == StepState.PENDING:
                missing = [d for d in node.deps if not node.scope.nodes[d].state.terminal]
                self._fail(
                    node, f"cannot start: it waits on {', '.join(missing) or 'nothing'} (a dependency cycle?)"
                )
        self.waiting.clear()

    def _cancel_pending(self) -> None:
        """Cancel: pending steps never start; running ones see the event and stop their process groups."""
        self.canceled = True
        for node in list(self.waiting):
            if node.state == StepState.PENDING:
                self._skip(node, "canceled")
        self.waiting.clear()


def _broken(dep: Node) -> bool:
    """A dependency that ended without doing its work (a branch not taken does not count)."""
    if dep.state == StepState.SKIPPED:
        return dep.skip_reason != "condition"
    return dep.state in (StepState.FAILED, StepState.CANCELED)


def _no_output(where: str, name: str, producer: Node, key: str) -> str:
    why = " (it did not run: its condition was false)" if producer.skip_reason == "condition" else ""
    return f"{where}: input {name!r} needs output {key!r} of step {producer.name!r}, which has none{why}"

"""The scheduler of one run: it walks the pipeline's DAG, opening a scope for every sub-DAG
(condition branch, nested pipeline, loop iteration) when it becomes ready, and runs each ready
container task on a thread of its own (up to `max_workers` at once) through `steps.ContainerStep`.
Only the scheduler's thread changes the graph; step threads hand their outcome back through a queue.

Its work is linear in the tasks: each node counts the dependencies it still waits on and is queued
when the last one ends; only queued nodes are tried (a container again only when a worker frees up).
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import MlopsError
from ..ir.graph import Node, Scope, dag_tasks, kind_of, static_steps, step_label
from ..ir.limits import check_step_count
from ..ir.spec import Json, task_dependencies
from ..ir.values import Artifact
from ..models import ArtifactInfo, RunState, StepInfo, StepState
from .conditions import evaluate
from .core_slots import WAITING_FACTOR, CoreSlots
from .dataflow import RunFacts, display_keys, group_outputs, importer_artifact, loop_items, resolve_inputs
from .held_ends import HeldEnds
from .steps import ContainerStep, StepContext, StepOutcome, snapshot


class Scheduler:
    """Runs one pipeline to the end; `run` returns the final run state and, unless it succeeded, why."""

    def __init__(self, ctx: StepContext, max_workers: int, max_running: int | None = None) -> None:
        """`max_workers`: steps that compute at once (cores); `max_running`: steps running at once,
        the waiting ones included (core_slots.py; default WAITING_FACTOR x max_workers)."""
        # a chain's step end is written with the next step's start (held_ends.py)
        self.reports = ctx.listener = HeldEnds(ctx.listener)
        self.ctx = ctx
        self.ir = ctx.ir
        self.max_workers = max_workers
        limit = WAITING_FACTOR * max_workers if max_running is None else max(max_workers, max_running)
        # None in the queue: a running step gave its core up, another may start
        self.events: queue.Queue[tuple[Node, StepOutcome] | None] = queue.Queue()
        self.slots = CoreSlots(max_workers, limit, on_free=lambda: self.events.put(None))
        ctx.slots = self.slots if limit > max_workers else None
        self.pool = ThreadPoolExecutor(limit, thread_name_prefix="step")
        self.waiting: dict[Node, None] = {}  # every node not started yet, in the order they came
        self.ready: deque[Node] = deque()  # nodes whose dependencies have all ended
        self.ready_steps: deque[Node] = deque()  # containers among them: these wait for a worker too
        self.held: dict[Node, deque[Node]] = {}  # loop -> iterations its parallelism limit holds back
        self.dependents: dict[Node, list[Node]] = {}  # node -> the nodes of its scope that wait on it
        self.unmet: dict[Node, int] = {}  # node -> how many of its dependencies have not ended
        self.open_children: dict[Node, int] = {}  # group -> how many of its children have not ended
        self.ended: set[Node] = set()
        self.roots: list[Node] = []
        self.open_roots = 0
        self.running = 0
        self.canceled = False
        self.failures: list[tuple[float, str]] = []
        self.created = 0  # steps made so far, against MAX_STEPS
        self.facts = RunFacts(ctx.run_id, ctx.ir.name, str(ctx.workdir), time.time())

    def run(self, values: dict[str, Any]) -> tuple[RunState, str | None]:
        try:
            params = {k: v for k, v in values.items() if not isinstance(v, Artifact)}
            artifacts = {k: [v] for k, v in values.items() if isinstance(v, Artifact)}
            root = Scope(prefix="", params=params, artifacts=artifacts)
            try:
                self.roots = self._instantiate(root, dag_tasks(self.ir.root), None)
            except MlopsError as e:
                return RunState.FAILED, str(e)
            self._loop()
            self.reports.flush()
        except BaseException:
            self.ctx.cancel.set()  # the scheduler itself failed (the store): stop the running steps
            try:
                self.reports.flush()
            except BaseException:
                pass  # (the store failing still: the run's final record closes the step)
            raise
        finally:
            self.pool.shutdown(wait=True)
        if self.canceled:
            return RunState.CANCELED, "the run was canceled"
        if self.failures:
            return RunState.FAILED, sorted(self.failures)[0][1]
        return RunState.SUCCEEDED, None

    def _loop(self) -> None:
        while self.open_roots:
            if self.ctx.cancel.is_set() and not self.canceled:
                self._cancel_pending()
            progressed = self._advance()
            if self.running == 0 and not progressed:
                self._fail_stuck()  # nothing runs and nothing can start: it never will
                continue
            if self.events.empty():
                self.reports.flush()  # nothing follows at once: a step's end held is written now
            try:
                event = self.events.get(timeout=0.1 if self.running == 0 else 0.05)
            except queue.Empty:
                continue
            while event is not None or not self.events.empty():
                if event is not None:
                    self._container_done(*event)
                try:
                    event = self.events.get_nowait()
                except queue.Empty:
                    break
        if self.ctx.cancel.is_set() and not self.canceled:
            self._cancel_pending()  # the last steps saw the cancel and stopped before this loop did

    # -- building the graph ---------------------------------------------------------------------

    def _instantiate(self, scope: Scope, tasks: Mapping[str, Json], parent: Node | None) -> list[Node]:
        nodes: list[Node] = []
        self.created += len(tasks)
        for key, task in tasks.items():
            name = scope.prefix + step_label(key, task)
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
            self.waiting[node] = None
        self._report_opened(nodes)
        for node in nodes:
            self.unmet[node] = len(node.deps)
            for dep in node.deps:
                self.dependents.setdefault(scope.nodes[dep], []).append(node)
        for node in nodes:
            if not node.deps:
                self._queue(node)
        if parent is not None:
            parent.children = nodes
            self.open_children[parent] = len(nodes)
        else:
            self.open_roots += len(nodes)
        return nodes

    def _queue(self, node: Node) -> None:
        (self.ready_steps if node.kind == "container" else self.ready).append(node)

    def _ended(self, node: Node) -> None:
        """`node` reached a final state: release what waited on it (once per node)."""
        if node in self.ended:
            return
        self.ended.add(node)
        for dependent in self.dependents.pop(node, ()):
            self.unmet[dependent] -= 1
            if self.unmet[dependent] == 0:
                self._queue(dependent)
        parent = node.parent
        if parent is None:
            self.open_roots -= 1
            return
        self.open_children[parent] -= 1
        held = self.held.get(parent)
        if node.kind == "iteration" and held:
            self.ready.append(held.popleft())

    # -- scheduling -----------------------------------------------------------------------------

    def _advance(self) -> bool:
        progressed = False
        while self.ready or (self.ready_steps and self.slots.free(self.running)):
            node = self.ready.popleft() if self.ready else self.ready_steps.popleft()
            if node.state != StepState.PENDING:
                self.waiting.pop(node, None)
            elif self._try_start(node):
                self.waiting.pop(node, None)
                progressed = True
            elif node.kind == "iteration":
                assert node.parent is not None
                self.held.setdefault(node.parent, deque()).append(node)
            else:  # a container with no worker free: first in line when one frees up
                self.ready_steps.appendleft(node)
                break
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
        if node.kind == "container" and not self.slots.free(self.running):
            return False
        try:
            params, artifacts = resolve_inputs(node, self.facts)
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
        except (KeyError, TypeError, ValueError) as e:  # IR that kfp's compiler would not write
            self._fail(node, f"cannot read this task in the pipeline file: {type(e).__name__}: {e}")
        return True

    def _start_container(
        self, node: Node, params: dict[str, Any], artifacts: dict[str, list[Artifact]]
    ) -> None:
        node.state = StepState.RUNNING
        self.running += 1
        step = ContainerStep(self.ctx, node.info, node.task, node.component, params, artifacts)
        # The only step that can run now (nothing else runs, nothing else is ready): it runs on this
        # thread. Until it ends nothing can become ready, so this thread would only wait for it; a pool
        # thread would cost each step of a chain two thread wake-ups (there and back), the first a start.
        alone = not self.ctx.cache_only and self.running == 1 and not self.ready and not self.ready_steps
        step.hold_end = alone  # this thread goes on from its end: written with what it reports next
        if alone:
            step.next_step = self._next_alone(node)

        def run() -> None:
            outcome = StepOutcome(StepState.FAILED, {}, {}, "the step ended without an outcome")
            try:
                outcome = step.run()
            except BaseException as e:  # e.g. its state could not be recorded: the store failed
                if alone and not isinstance(e, Exception):
                    raise  # (an interrupt of this thread: as it would have interrupted its wait)
                why = str(e) if isinstance(e, MlopsError) else f"internal error running the step: {e!r}"
                outcome = StepOutcome(StepState.FAILED, {}, {}, why)
                node.info.state, node.info.error, node.info.finished_at = StepState.FAILED, why, time.time()
                try:
                    self.ctx.listener.on_step(snapshot(node.info))
                except BaseException:
                    pass  # still failing: the run's final record marks this step FAILED with the reason
            finally:
                self.events.put((node, outcome))  # never leave the scheduler waiting for this step

        if self.ctx.cache_only or alone:
            run()  # (cache only: no process to wait for; a thread's hand-over would cost more than a lookup)
        else:
            self.pool.submit(run)

    def _next_alone(self, node: Node) -> tuple[str, Mapping[str, Any]] | None:
        """The step that runs next, alone, when `node`, which runs alone, ends (the next step of a
        chain): its one dependent that waits on nothing else, if it is a step."""
        waiting = [d for d in self.dependents.get(node, ()) if self.unmet.get(d) == 1]
        if len(waiting) != 1 or waiting[0].kind != "container":
            return None
        return waiting[0].info.name, waiting[0].component

    def _container_done(self, node: Node, outcome: StepOutcome) -> None:
        self.running -= 1
        node.params_out, node.artifacts_out = outcome.params, outcome.artifacts
        node.state = outcome.state
        if outcome.state == StepState.SKIPPED:  # the run was cancelled before the step could start
            node.skip_reason = "canceled"
        if node.state.terminal:
            self._ended(node)
        if outcome.state == StepState.FAILED:
            self.failures.append(
                (node.info.finished_at or time.time(), f"step {node.name!r} failed: {outcome.error}")
            )
        self._child_done(node.parent)

    def _run_importer(self, node: Node, params: dict[str, Any]) -> None:
        artifact = importer_artifact(self.ir.importer(node.name, node.component), params)
        node.artifacts_out = {"artifact": [artifact]}
        node.info.started_at = node.info.finished_at = time.time()
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
        node.info.inputs = display_keys(params)
        node.info.started_at = time.time()
        self._set(node, StepState.RUNNING)
        node.inner = Scope(prefix=prefix, params=params, artifacts=artifacts)
        children = self._instantiate(node.inner, dag_tasks(node.component), node)
        if not children:
            self._finish_group(node)

    def _start_loop(self, node: Node, params: dict[str, Any], artifacts: dict[str, list[Artifact]]) -> None:
        node.info.inputs = display_keys(params)
        node.info.started_at = time.time()
        self._set(node, StepState.RUNNING)
        item_input, items, over_parameters = loop_items(node, params, artifacts)
        # A loop over a list known only now (a parameter, an upstream output) multiplies its steps here.
        check_step_count(self.created + len(items) * (1 + len(dag_tasks(node.component))))
        node.iteration_limit = int((node.task.get("iteratorPolicy") or {}).get("parallelismLimit", 0) or 0)
        iterations = []
        for i, item in enumerate(items):
            it_params, it_artifacts = dict(params), dict(artifacts)
            if over_parameters:
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
            self.waiting[iteration] = None
            self.ready.append(iteration)
        node.children = iterations
        self.open_children[node] = len(iterations)
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
        if parent is not None and parent.state == StepState.RUNNING and not self.open_children.get(parent):
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
                group_outputs(node)
            except (MlopsError, KeyError, TypeError, ValueError) as e:
                node.info.error, state = str(e), StepState.FAILED
                self.failures.append((time.time(), f"step {node.name!r} failed: {e}"))
        node.info.finished_at = time.time()
        self._set(node, state)
        self._child_done(node.parent)

    # -- states ---------------------------------------------------------------------------------

    def _set(self, node: Node, state: StepState) -> None:
        node.state = node.info.state = state
        if state.terminal:
            self._ended(node)
        self._report(node)

    def _report(self, node: Node) -> None:
        if node.reported:
            self.ctx.listener.on_step(snapshot(node.info))

    def _report_opened(self, nodes: list[Node]) -> None:
        """The steps of a DAG that opened, PENDING: at once to a listener that takes many (`on_steps`,
        one store transaction for a 1,000-step DAG), else one by one."""
        reports = [snapshot(node.info) for node in nodes if node.reported]
        many = getattr(self.ctx.listener, "on_steps", None)
        if many is not None and len(reports) > 1:
            many(reports)
            return
        for report in reports:
            self.ctx.listener.on_step(report)

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

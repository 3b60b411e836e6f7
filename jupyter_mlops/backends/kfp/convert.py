"""A KFP v2beta1 run (kfp_server_api's V2beta1Run) as our RunInfo, its steps and its events.

Steps and edges come from the run's own pipeline spec (what the server runs), exactly as the local
backend plans them, so a pending run shows its whole DAG. Each step's state comes from the run's
`run_details.task_details` entry of the same display name:

- KFP states map by name; RUNTIME_STATE_UNSPECIFIED is PENDING, PAUSED is RUNNING.
- A task reported SKIPPED whose cache check ran (`executor_detail.pre_caching_check_job`) and whose
  main job did not (`main_job` empty) was answered from KFP's cache: CACHED. Any other SKIPPED stays
  SKIPPED (a condition that was false).
- A task the server never reported (KFP creates no task for a step downstream of a failure) is
  PENDING while the run goes on, then SKIPPED after a failure or success, CANCELED after a cancel.

Output parameter values, metrics and artifact metadata are not part of the v2beta1 REST API (KFP keeps
them in ML Metadata), so steps have no `outputs` or `metrics` here; the capabilities say so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ...ir.documents import pipeline_name
from ...ir.values import Artifact, pipeline_arguments
from ...models import RunEvent, RunInfo, RunState, StepInfo, StepState
from .root_parameters import ParameterPlan, parameters_of, plan_of

_RUN_STATES = {
    "PENDING": RunState.PENDING,
    "RUNNING": RunState.RUNNING,
    "PAUSED": RunState.RUNNING,
    "SUCCEEDED": RunState.SUCCEEDED,
    "SKIPPED": RunState.SUCCEEDED,  # a run with nothing to do
    "FAILED": RunState.FAILED,
    "CANCELING": RunState.CANCELING,
    "CANCELED": RunState.CANCELED,
}
_STEP_STATES = {
    "PENDING": StepState.PENDING,
    "RUNNING": StepState.RUNNING,
    "PAUSED": StepState.RUNNING,
    "SUCCEEDED": StepState.SUCCEEDED,
    "SKIPPED": StepState.SKIPPED,
    "FAILED": StepState.FAILED,
    "CANCELING": StepState.CANCELING,
    "CANCELED": StepState.CANCELED,
}


def run_state(value: Any) -> RunState:
    return _RUN_STATES.get(str(value or ""), RunState.PENDING)


def kfp_state(state: RunState) -> str:
    """Our run state as the KFP state to filter on."""
    return state.value


def step_state(value: Any, executor_detail: Any = None) -> StepState:
    """A task's KFP state as ours; `executor_detail` tells a cache hit from a skip."""
    state = _STEP_STATES.get(str(value or ""), StepState.PENDING)
    if state is StepState.SKIPPED:
        detail = executor_detail
        if detail is not None and detail.pre_caching_check_job and not detail.main_job:
            return StepState.CACHED
    return state


_FRACTION = re.compile(r"\.(\d+)")


def seconds(value: Any) -> float | None:
    """A KFP timestamp (datetime, or an RFC 3339 string) as epoch seconds; the zero time is None."""
    if value is None:
        return None
    if isinstance(value, str):
        try:  # Python 3.11 reads what Go writes as it is (0-9 fractional digits, "Z")
            value = dt.datetime.fromisoformat(value)
        except ValueError:  # Python 3.10's takes exactly 3 or 6 fractional digits, and no "Z"
            text = _FRACTION.sub(lambda m: "." + (m.group(1) + "00000")[:6], value.replace("Z", "+00:00"), 1)
            try:
                value = dt.datetime.fromisoformat(text)
            except ValueError:
                return None
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    stamp = value.timestamp()
    return stamp if stamp > 0 else None


def documents_of(run: Any) -> list[dict[str, Any]]:
    """The pipeline spec the server holds for the run, as IR documents (spec, then platform config)."""
    spec = run.pipeline_spec
    if not isinstance(spec, Mapping):
        return []
    if "pipeline_spec" in spec and isinstance(spec["pipeline_spec"], Mapping):
        docs: list[dict[str, Any]] = [dict(spec["pipeline_spec"])]
        platform = spec.get("platform_spec")
        if isinstance(platform, Mapping) and platform:
            docs.append(dict(platform))
        return docs
    return [dict(spec)]


def _plan(documents: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[tuple[str, str]]]:
    """Steps upstream first (the server's JSON keeps no task order: ties go by name), and edges."""
    if not documents:
        return [], []
    from ...executor.engine import plan

    try:
        names, edges = plan(documents)
    except Exception:  # a spec we cannot plan (not ours): show the tasks the server reports
        return [], []
    waiting = {n: {a for a, b in edges if b == n} for n in names}
    ordered: list[str] = []
    while waiting:
        ready = sorted((n for n, ups in waiting.items() if not ups), key=lambda n: (len(n), n))
        if not ready:  # a cycle cannot run anyway: keep what is left as it came
            ordered += list(waiting)
            break
        for n in ready:
            ordered.append(n)
            del waiting[n]
        for ups in waiting.values():
            ups.difference_update(ready)
    return ordered, sorted(edges, key=lambda e: (ordered.index(e[0]), ordered.index(e[1])))


def _parameters(documents: Sequence[Mapping[str, Any]], run: Any) -> dict[str, Any]:
    given = dict((run.runtime_config.parameters or {}) if run.runtime_config else {})
    return _given_parameters(documents, given)


def _given_parameters(documents: Sequence[Mapping[str, Any]], given: dict[str, Any]) -> dict[str, Any]:
    root = documents[0].get("root") if documents else None
    if not isinstance(root, Mapping):
        return given
    return _root_parameters(root, given)


def _root_parameters(root: Mapping[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    try:  # the root's defaults and types only: the server ran this spec, no need to check all of it
        values = pipeline_arguments(root, given)
    except Exception:
        return given
    return {k: v.uri if isinstance(v, Artifact) else v for k, v in values.items()}


def _error_text(status: Any) -> str | None:
    if status is None:
        return None
    message = getattr(status, "message", None)
    return str(message) if message else None


def tasks_by_name(run: Any) -> dict[str, Any]:
    details = run.run_details.task_details if run.run_details else None
    found: dict[str, Any] = {}
    for task in details or []:
        if task.display_name:
            found[task.display_name] = task
    return found


def _missing_state(state: RunState) -> StepState:
    if state is RunState.CANCELED:
        return StepState.CANCELED
    if state.terminal:
        return StepState.SKIPPED
    return StepState.PENDING


def to_run_info(run: Any, experiment: str, *, with_steps: bool = True) -> RunInfo:
    documents = documents_of(run)
    state = run_state(run.state)
    history = list(run.state_history or [])
    started = next((seconds(h.update_time) for h in history if str(h.state) == "RUNNING"), None)
    info = RunInfo(
        id=str(run.run_id),
        name=str(run.display_name or run.run_id),
        state=state,
        experiment=experiment,
        pipeline_name=pipeline_name(documents) if documents else "",
        backend="kfp",
        created_at=seconds(run.created_at) or 0.0,
        started_at=started if started is not None else (seconds(run.created_at) if state.terminal else None),
        finished_at=seconds(run.finished_at) if state.terminal else None,
        parameters=_parameters(documents, run),
        error=_error_text(run.error) if state is RunState.FAILED else None,
    )
    if not with_steps:
        return info
    names, edges = _plan(documents)
    tasks = tasks_by_name(run)
    if not names:
        names = [n for n in tasks if n != "root"]
    info.edges = edges
    for name in names:
        task = tasks.get(name)
        if task is None:
            info.steps.append(StepInfo(name=name, state=_missing_state(state)))
            continue
        sstate = step_state(task.state, task.executor_detail)
        info.steps.append(
            StepInfo(
                name=name,
                state=sstate,
                started_at=seconds(task.start_time),
                finished_at=seconds(task.end_time) if sstate.terminal else None,
                error=_error_text(task.error) if sstate is StepState.FAILED else None,
                attempts=1 if task.start_time else 0,
            )
        )
    return info


def summary_of(run: Mapping[str, Any], experiment: str, specs: dict[int, SpecFacts] | None = None) -> RunInfo:
    """A listed run (its JSON object as the server sent it) as `to_run_info(..., with_steps=False)`
    makes it, read from the plain dict: a page of 100 runs is read in about half the time. `specs`:
    what was read of each pipeline spec object already met on this page (runs_json shares one object
    between the runs of one pipeline), by the object's id."""
    spec = run.get("pipeline_spec")
    if specs is None:
        name, root, plan = _spec_facts(spec)
    else:
        facts = specs.get(id(spec))
        if facts is None:
            facts = specs[id(spec)] = _spec_facts(spec)
        name, root, plan = facts
    state = _RUN_STATES.get(str(run.get("state") or ""), RunState.PENDING)
    created = seconds(run.get("created_at"))
    started = next(
        (
            seconds(h.get("update_time"))
            for h in run.get("state_history") or ()
            if str(h.get("state")) == "RUNNING"
        ),
        None,
    )
    config = run.get("runtime_config") or {}
    error = run.get("error") or {}
    given = dict(config.get("parameters") or {})
    return RunInfo(
        id=str(run.get("run_id")),
        name=str(run.get("display_name") or run.get("run_id")),
        state=state,
        experiment=experiment,
        pipeline_name=name,
        backend="kfp",
        created_at=created or 0.0,
        started_at=started if started is not None else (created if state.terminal else None),
        finished_at=seconds(run.get("finished_at")) if state.terminal else None,
        parameters=_listed_parameters(root, plan, given),
        error=(str(error["message"]) if error.get("message") else None) if state is RunState.FAILED else None,
    )


SpecFacts = tuple[str, Mapping[str, Any] | None, ParameterPlan | None]


def _spec_facts(spec: Any) -> SpecFacts:
    """A listed run's pipeline name, root DAG (read-only) and what the root declares of its parameters
    (root_parameters.py: read once per spec on a page, not once per run)."""
    if not isinstance(spec, Mapping):
        return "", None, None
    inner = spec.get("pipeline_spec")
    document = inner if "pipeline_spec" in spec and isinstance(inner, Mapping) else spec
    root = document.get("root")
    if not isinstance(root, Mapping):
        return pipeline_name([document]), None, None
    return pipeline_name([document]), root, plan_of(root)


def _listed_parameters(
    root: Mapping[str, Any] | None, plan: ParameterPlan | None, given: dict[str, Any]
) -> dict[str, Any]:
    if root is None:
        return given
    if plan is None:
        return _root_parameters(root, given)
    values = parameters_of(plan, given)
    return given if values is None else values


def events_of(run: Any) -> list[RunEvent]:
    """The run's history as events: its state history, then each task's, in time order (the run's
    change first at equal times). Rebuilt from the server's record on each call, so `seq` numbers are
    the same every time and a watcher resumes with `after=`."""
    found: list[tuple[float, int, str, RunEvent]] = []
    run_id = str(run.run_id)
    for h in run.state_history or []:
        at = seconds(h.update_time) or 0.0
        found.append((at, 0, "", RunEvent(run_id, 0, at, "run", run_state(h.state).value)))
    for name, task in tasks_by_name(run).items():
        if name == "root":
            continue
        for h in task.state_history or []:
            at = seconds(h.update_time) or 0.0
            event = RunEvent(
                run_id, 0, at, "step", step_state(h.state, task.executor_detail).value, step=name
            )
            found.append((at, 1, name, event))
    found.sort(key=lambda item: (item[0], item[1], item[2]))
    events = []
    for seq, (_, _, _, event) in enumerate(found, start=1):
        event.seq = seq
        events.append(event)
    return events


def output_types(documents: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """(task, output parameter) -> its parameterType, from the spec's components."""
    if not documents:
        return {}
    spec = documents[0]
    components = spec.get("components") or {}
    found: dict[tuple[str, str], str] = {}
    for task, body in ((spec.get("root") or {}).get("dag") or {}).get("tasks", {}).items():
        ref = (body.get("componentRef") or {}).get("name", "")
        params = ((components.get(ref) or {}).get("outputDefinitions") or {}).get("parameters") or {}
        for name, definition in params.items():
            found[(task, name)] = str(definition.get("parameterType", ""))
    return found


def typed(value: Any, kind: str | None) -> Any:
    """A value as ML Metadata's Struct gives it (numbers are doubles) back in its parameter's type."""
    if kind == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value

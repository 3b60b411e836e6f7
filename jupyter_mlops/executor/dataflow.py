"""How values flow through the graph: a task's inputs from its scope, a group's outputs from its
contents, a loop's items, an importer's artifact. Pure functions of the nodes (no processes, no I/O)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..errors import PipelineError
from ..ir.graph import Node
from ..ir.values import Artifact, apply_selector, cast_parameter
from ..models import StepState


@dataclass(frozen=True)
class RunFacts:
    """What kfp's runtime placeholders (`dsl.PIPELINE_JOB_ID_PLACEHOLDER`, ...) stand for in this run."""

    run_id: str
    pipeline_name: str
    root: str
    created: float

    def substitute(self, text: str, node: Node) -> str:
        if "{{$." not in text:
            return text
        created = datetime.fromtimestamp(self.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        values = {
            "pipeline_job_name": self.run_id or self.pipeline_name,
            "pipeline_job_resource_name": self.run_id,
            "pipeline_job_uuid": self.run_id,
            "pipeline_task_name": node.key,
            "pipeline_task_uuid": node.name,
            "pipeline_root": self.root,
            "pipeline_job_create_time_utc": created,
            "pipeline_job_schedule_time_utc": created,
            "workspace_path": f"{self.root}/workspace",
        }
        for key, value in values.items():
            text = text.replace("{{$." + key + "}}", value)
        return text


def resolve_inputs(node: Node, run: RunFacts) -> tuple[dict[str, Any], dict[str, list[Artifact]]]:
    """A task's parameter values and artifacts, from its scope; typed for the component if it runs."""
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
            if isinstance(value, str):
                value = run.substitute(value, node)
        elif "taskFinalStatus" in spec:
            producer = scope.nodes[str(spec["taskFinalStatus"]["producerTask"])]
            value = {
                "state": producer.state.value,
                "pipelineJobResourceName": run.run_id,
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
            raise PipelineError(f"{where}: input artifact {name!r} has an unsupported source {sorted(spec)}")
        artifacts[name] = group
    if node.kind == "container":
        definitions = (node.component.get("inputDefinitions") or {}).get("parameters") or {}
        for name, definition in definitions.items():
            ptype = str(definition.get("parameterType", ""))
            if name in params:
                params[name] = cast_parameter(params[name], ptype, f"{where}, input {name!r}")
            elif "defaultValue" in definition:
                params[name] = cast_parameter(definition["defaultValue"], ptype, f"{where}, input {name!r}")
    return params, artifacts


def group_outputs(node: Node) -> None:
    """A finished group's outputs: its DAG's `outputs`, one value per iteration for a loop."""
    outputs = (node.component.get("dag") or {}).get("outputs") or {}
    scopes = [c.inner for c in node.children if c.inner is not None] if node.kind == "loop" else [node.inner]
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
    # shown without the compiler's "pipelinechannel--" prefix (the graph keeps the IR's keys)
    node.info.outputs = display_keys(node.params_out)
    node.info.outputs.update({_display(k): [a.uri for a in g] for k, g in node.artifacts_out.items()})


def loop_items(
    node: Node, params: Mapping[str, Any], artifacts: Mapping[str, list[Artifact]]
) -> tuple[str, list[Any], bool]:
    """(the iteration's input name, the items, True if they are parameter values) of a ParallelFor."""
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
            raise PipelineError(f"step {node.name!r}: ParallelFor needs a list to loop over, got {items!r}")
    else:
        items = list(artifacts.get(str(source.get("inputArtifact")), []))
    return item_input, items, "parameterIterator" in node.task


def importer_artifact(spec: Mapping[str, Any], params: Mapping[str, Any]) -> Artifact:
    """The artifact a `dsl.importer` task brings in: its URI as given, nothing copied."""
    source = spec.get("artifactUri") or {}
    uri = source.get("constant") if "constant" in source else params.get(str(source.get("runtimeParameter")))
    if isinstance(uri, Mapping):  # older IR: {"stringValue": ...}
        uri = uri.get("stringValue")
    schema = spec.get("typeSchema") or {}
    return Artifact(
        name="artifact",
        uri=str(uri),
        schema_title=str(schema.get("schemaTitle", "system.Artifact")),
        schema_version=str(schema.get("schemaVersion", "0.0.1")),
        metadata=dict(spec.get("metadata") or {}),
    )


def _display(key: str) -> str:
    return key.removeprefix("pipelinechannel--")


def display_keys(values: Mapping[str, Any]) -> dict[str, Any]:
    """A group's inputs or outputs as shown to users: without the compiler's channel prefix."""
    return {_display(k): v for k, v in values.items()}


def _no_output(where: str, name: str, producer: Node, key: str) -> str:
    why = " (it did not run: its condition was false)" if producer.skip_reason == "condition" else ""
    return f"{where}: input {name!r} needs output {key!r} of step {producer.name!r}, which has none{why}"

"""The stand-in's ML Metadata, as the KFP UI's server exposes it over gRPC-web at
`POST /ml_metadata.MetadataStoreService/{method}` (frontend/server/app.ts proxies it to metadata-envoy).

What KFP's v2 driver and launcher record (backend/src/v2/metadata/client.go), built from the executing
local run: a `system.PipelineRun` context named by the run id; one execution per task that started,
custom properties `task_name`, `display_name` and, once it succeeded, `outputs` (its output parameters
as a Struct: numbers come back as doubles, as protobuf's Struct has no ints); each output artifact with
its type, an object-store URI and its metadata as custom properties (a `system.Metrics` artifact's are
its metrics, as doubles), and an OUTPUT event whose path is the output's name. Answered:
GetContextByTypeAndName, GetExecutionsByContext, GetArtifactsByContext, GetEventsByExecutionIDs;
anything else is grpc-status 12 UNIMPLEMENTED. An artifact's metadata is recorded as the launcher
converts it (`_record`). Not modelled: `pod_name`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from jupyter_mlops.backends.kfp.mlmd import frame, unframe
from jupyter_mlops.backends.kfp.mlmd_messages import MESSAGES

from .artifacts import uri_of
from .cluster import Cluster


def _id(*parts: str) -> int:
    return int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:12], 16) % 10**12


def _output_parameters(spec: dict[str, Any], task: str) -> set[str]:
    pipeline = spec.get("pipeline_spec", spec)
    component = pipeline.get("root", {}).get("dag", {}).get("tasks", {}).get(task, {})
    name = component.get("componentRef", {}).get("name", "")
    definition = pipeline.get("components", {}).get(name, {})
    return set(definition.get("outputDefinitions", {}).get("parameters", {}))


class Metadata:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def answer(self, method: str, body: bytes) -> bytes:
        """A gRPC-web answer body: the message, then the trailers."""
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _trailers(12, f"unknown method {method}")
        request, _ = unframe(body)
        status, message = handler(request)
        payload = frame(message.SerializeToString()) if message is not None else b""
        return payload + _trailers(status, "" if status == 0 else "not found")

    def _run_of(self, context_id: int) -> str | None:
        with self.cluster.lock:
            for run_id in self.cluster.runs:
                if _id(run_id, "ctx") == context_id:
                    return run_id
        return None

    def _GetContextByTypeAndName(self, raw: bytes) -> tuple[int, Any]:
        request = MESSAGES["GetContextByTypeAndNameRequest"].FromString(raw)
        answer = MESSAGES["GetContextByTypeAndNameResponse"]()
        with self.cluster.lock:
            known = request.context_name in self.cluster.runs
        if request.type_name == "system.PipelineRun" and known:
            answer.context.id = _id(request.context_name, "ctx")
            answer.context.name = request.context_name
            answer.context.type = "system.PipelineRun"
        return 0, answer  # not found: an empty answer, as MLMD gives

    def _executions(self, run_id: str) -> list[Any]:
        record = self.cluster.record(run_id)
        local_id = record.attempts[-1]
        made = []
        for step in self.cluster.local.get(local_id).steps:
            if step.started_at is None and not step.state.terminal:
                continue
            execution = MESSAGES["Execution"](id=_id(local_id, step.name), type="system.ContainerExecution")
            props = execution.custom_properties
            props["task_name"].string_value = step.name
            props["display_name"].string_value = step.name
            wanted = _output_parameters(record.pipeline_spec, step.name)
            outputs = {k: v for k, v in step.outputs.items() if k in wanted}
            if step.state.value in ("SUCCEEDED", "CACHED") and outputs:
                props["outputs"].struct_value.update(outputs)
            made.append(execution)
        return made

    def _GetExecutionsByContext(self, raw: bytes) -> tuple[int, Any]:
        request = MESSAGES["GetExecutionsByContextRequest"].FromString(raw)
        run_id = self._run_of(request.context_id)
        answer = MESSAGES["GetExecutionsByContextResponse"]()
        if run_id is not None:
            answer.executions.extend(self._executions(run_id))
        return 0, answer

    def _metrics(self, run_id: str) -> list[tuple[Any, int, str]]:
        """Every output artifact of the run (metrics and others), with its execution and output name."""
        local_id = self.cluster.record(run_id).attempts[-1]
        found = []
        for a in self.cluster.local.artifacts(local_id):
            uri = uri_of(run_id, a.step, a.name)  # in the object store (artifacts.py serves it)
            artifact = MESSAGES["Artifact"](id=_id(a.uri), type=a.type, uri=uri, name=a.name)
            artifact.custom_properties["display_name"].string_value = a.name
            for key, value in a.metadata.items():
                _record(artifact.custom_properties[key], value)
                if not artifact.custom_properties[key].WhichOneof("value"):
                    del artifact.custom_properties[key]
            found.append((artifact, _id(local_id, a.step), a.name))
        return found

    def _GetArtifactsByContext(self, raw: bytes) -> tuple[int, Any]:
        request = MESSAGES["GetArtifactsByContextRequest"].FromString(raw)
        run_id = self._run_of(request.context_id)
        answer = MESSAGES["GetArtifactsByContextResponse"]()
        if run_id is not None:
            answer.artifacts.extend(a for a, _, _ in self._metrics(run_id))
        return 0, answer

    def _GetEventsByExecutionIDs(self, raw: bytes) -> tuple[int, Any]:
        request = MESSAGES["GetEventsByExecutionIDsRequest"].FromString(raw)
        wanted = set(request.execution_ids)
        answer = MESSAGES["GetEventsByExecutionIDsResponse"]()
        with self.cluster.lock:
            run_ids = list(self.cluster.runs)
        for run_id in run_ids:
            for artifact, execution_id, name in self._metrics(run_id):
                if execution_id in wanted:
                    event = answer.events.add(artifact_id=artifact.id, execution_id=execution_id, type=4)
                    event.path.steps.add(key=name)
        return 0, answer


def _record(field: Any, value: Any) -> None:
    """An artifact's metadata value as KFP's launcher records it (metadata.StructValueToMLMDValue,
    backend/src/v2/metadata/client.go): the executor's metadata is a protobuf Struct, so a number is a
    double, a bool the int 1 or 0, a list a struct {"list": [...]}, an object a struct {"struct": {...}};
    null is not recorded."""
    if isinstance(value, str):
        field.string_value = value
    elif isinstance(value, bool):
        field.int_value = int(value)
    elif isinstance(value, (int, float)):
        field.double_value = float(value)
    elif isinstance(value, (list, tuple)):
        field.struct_value.update({"list": list(value)})
    elif isinstance(value, dict):
        field.struct_value.update({"struct": value})


def _trailers(status: int, message: str) -> bytes:
    text = f"grpc-status:{status}\r\ngrpc-message:{message}\r\n".encode()
    return b"\x80" + len(text).to_bytes(4, "big") + text

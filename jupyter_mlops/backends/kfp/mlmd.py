"""Output parameters and metrics of a KFP run's steps, from ML Metadata through the KFP UI's server.

KFP v2 keeps them in ML Metadata (MLMD), not in the v2beta1 API (which lists a task's artifacts by id
only). The KFP UI reads MLMD over gRPC-web: its server proxies `/ml_metadata.*` to the metadata-envoy
service (frontend/server/app.ts), and so do we, with the same credentials as the API. What KFP's v2
driver and launcher record there (backend/src/v2/metadata/client.go): a `system.PipelineRun` context
named by the run id; in it one execution per task, whose custom properties hold `task_name` and
`outputs` (the output parameters, a Struct); `system.Metrics` artifacts whose custom properties are the
metrics, linked to their execution by an OUTPUT event whose path is the output's name.

Four calls per run (context, executions, artifacts, events); the backend asks once a run has finished.
"""

from __future__ import annotations

import struct
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .connection import Connection, _short, explain
from .mlmd_messages import MESSAGES, value_of

SERVICE = "/ml_metadata.MetadataStoreService/"
RUN_CONTEXT_TYPE = "system.PipelineRun"
OUTPUT_EVENT = 4  # ml_metadata.Event.Type.OUTPUT


class MlmdError(Exception):
    """A gRPC error status in the answer (e.g. 5 NOT_FOUND)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"ML Metadata answered grpc-status {code}: {message}")
        self.code = code


@dataclass
class StepValues:
    outputs: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    # output name -> (artifact type, URI in the object store, metadata)
    artifacts: dict[str, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)


def frame(message: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(message)) + message


def unframe(body: bytes) -> tuple[bytes, dict[str, str]]:
    """The message and the trailers of a gRPC-web answer."""
    message, trailers, at = b"", {}, 0
    while at + 5 <= len(body):
        flag, size = body[at], struct.unpack(">I", body[at + 1 : at + 5])[0]
        chunk = body[at + 5 : at + 5 + size]
        at += 5 + size
        if flag & 0x80:
            for line in chunk.decode("utf-8", "replace").split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip():
                    trailers[name.strip().lower()] = value.strip()
        else:
            message = chunk
    return message, trailers


def call(conn: Connection, method: str, request: Any, answer: str) -> Any:
    url = conn.ui_host + SERVICE + method
    headers = {
        **conn.headers(),
        "Content-Type": "application/grpc-web+proto",
        "X-Grpc-Web": "1",
        "Accept": "application/grpc-web+proto",
    }
    req = urllib.request.Request(url, data=frame(request.SerializeToString()), headers=headers, method="POST")
    what = f"reading ML Metadata ({method})"
    try:
        with urllib.request.urlopen(req, timeout=conn.timeout) as response:
            body = bytes(response.read())
            header_status = response.headers.get("grpc-status")
            kind = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        raise explain(conn, exc.code, exc.read().decode("utf-8", "replace")[:200], what) from None
    except (urllib.error.URLError, OSError) as exc:
        raise explain(conn, None, _short(getattr(exc, "reason", exc)), what) from None
    if not kind.startswith("application/grpc-web"):  # e.g. a login page in front of the UI
        raise explain(conn, 502, f"not a gRPC-web answer ({kind or 'no content type'})", what)
    message, trailers = unframe(body)
    status = int(trailers.get("grpc-status", header_status or 0) or 0)
    if status:
        raise MlmdError(status, trailers.get("grpc-message", ""))
    return MESSAGES[answer].FromString(message)


def probe(conn: Connection) -> bool:
    """Whether the UI host proxies ML Metadata (it answers a context lookup, found or not)."""
    try:
        request = MESSAGES["GetContextByTypeAndNameRequest"](type_name=RUN_CONTEXT_TYPE, context_name="")
        call(conn, "GetContextByTypeAndName", request, "GetContextByTypeAndNameResponse")
        return True
    except MlmdError:
        return True
    except Exception:
        return False


def launcher_value(value: Any) -> Any:
    """An artifact's metadata value as the step wrote it, from what KFP's launcher recorded: it wraps a
    list as the struct {"list": [...]} and an object as {"struct": {...}}, and keeps every number as a
    double (protobuf's Struct has no ints), so whole numbers come back as ints (a shape, a count)."""
    found = value_of(value)
    if isinstance(found, dict) and len(found) == 1 and next(iter(found)) in ("list", "struct"):
        found = next(iter(found.values()))
    return _whole(found)


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_whole(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    return value


def step_values(conn: Connection, run_id: str) -> dict[str, StepValues]:
    """Task name -> its output parameters and metrics, as recorded so far (empty: nothing recorded)."""
    found = call(
        conn,
        "GetContextByTypeAndName",
        MESSAGES["GetContextByTypeAndNameRequest"](type_name=RUN_CONTEXT_TYPE, context_name=run_id),
        "GetContextByTypeAndNameResponse",
    )
    if not found.HasField("context"):
        return {}
    context_id = found.context.id
    executions = call(
        conn,
        "GetExecutionsByContext",
        MESSAGES["GetExecutionsByContextRequest"](context_id=context_id),
        "GetExecutionsByContextResponse",
    ).executions
    values: dict[str, StepValues] = {}
    task_of: dict[int, str] = {}
    for execution in executions:
        props = execution.custom_properties
        task = props["task_name"].string_value if "task_name" in props else ""
        if not task:
            continue
        task_of[execution.id] = task
        outputs = value_of(props["outputs"]) if "outputs" in props else None
        values[task] = StepValues(outputs=dict(outputs) if isinstance(outputs, dict) else {})
    if not task_of:
        return values
    artifacts = call(
        conn,
        "GetArtifactsByContext",
        MESSAGES["GetArtifactsByContextRequest"](context_id=context_id),
        "GetArtifactsByContextResponse",
    ).artifacts
    by_id = {a.id: a for a in artifacts}
    if not by_id:
        return values
    events = call(
        conn,
        "GetEventsByExecutionIDs",
        MESSAGES["GetEventsByExecutionIDsRequest"](execution_ids=list(task_of)),
        "GetEventsByExecutionIDsResponse",
    ).events
    for event in events:
        artifact = by_id.get(event.artifact_id)
        if event.type != OUTPUT_EVENT or artifact is None or event.execution_id not in task_of:
            continue
        step = values[task_of[event.execution_id]]
        output = next((s.key for s in event.path.steps if s.key), "") or artifact.name
        metadata = {
            k: launcher_value(v) for k, v in artifact.custom_properties.items() if k != "display_name"
        }
        step.artifacts[output] = (artifact.type or "system.Artifact", artifact.uri, metadata)
        if artifact.type == "system.Metrics":
            for name, number in metadata.items():
                if isinstance(number, (int, float)) and not isinstance(number, bool):
                    step.metrics[name] = float(number)
    return values

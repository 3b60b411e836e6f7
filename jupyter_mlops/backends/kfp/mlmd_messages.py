"""The few ML Metadata messages the kfp backend reads, declared here (the `ml-metadata` package is not a
dependency: it pins its own protobuf and has no wheels for every Python).

Field numbers and types as ml_metadata/proto/metadata_store.proto and metadata_store_service.proto
declare them (google/ml-metadata, vendored in kubeflow/pipelines under third_party/ml-metadata); fields
we do not read are left out (protobuf skips unknown fields), enums are read as their numbers.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, struct_pb2

F = descriptor_pb2.FieldDescriptorProto
_I64, _DBL, _STR, _BOOL, _MSG, _I32 = (
    F.TYPE_INT64,
    F.TYPE_DOUBLE,
    F.TYPE_STRING,
    F.TYPE_BOOL,
    F.TYPE_MESSAGE,
    F.TYPE_INT32,
)
_ONE, _MANY = F.LABEL_OPTIONAL, F.LABEL_REPEATED
PACKAGE = "ml_metadata"

# message -> [(field, number, type, label, message type or "")], with nested messages as "Outer.Inner"
_MESSAGES: dict[str, list[tuple[str, int, int, int, str]]] = {
    "Value": [
        ("int_value", 1, _I64, _ONE, ""),
        ("double_value", 2, _DBL, _ONE, ""),
        ("string_value", 3, _STR, _ONE, ""),
        ("struct_value", 4, _MSG, _ONE, ".google.protobuf.Struct"),
        ("bool_value", 6, _BOOL, _ONE, ""),
    ],
    "Artifact": [
        ("id", 1, _I64, _ONE, ""),
        ("type_id", 2, _I64, _ONE, ""),
        ("uri", 3, _STR, _ONE, ""),
        ("custom_properties", 5, _MSG, _MANY, ".ml_metadata.Artifact.CustomPropertiesEntry"),
        ("state", 6, _I32, _ONE, ""),
        ("name", 7, _STR, _ONE, ""),
        ("type", 8, _STR, _ONE, ""),
    ],
    "Execution": [
        ("id", 1, _I64, _ONE, ""),
        ("type_id", 2, _I64, _ONE, ""),
        ("last_known_state", 3, _I32, _ONE, ""),
        ("custom_properties", 5, _MSG, _MANY, ".ml_metadata.Execution.CustomPropertiesEntry"),
        ("name", 6, _STR, _ONE, ""),
        ("type", 7, _STR, _ONE, ""),
    ],
    "Context": [
        ("id", 1, _I64, _ONE, ""),
        ("type_id", 2, _I64, _ONE, ""),
        ("name", 3, _STR, _ONE, ""),
        ("type", 6, _STR, _ONE, ""),
    ],
    "Event": [
        ("artifact_id", 1, _I64, _ONE, ""),
        ("execution_id", 2, _I64, _ONE, ""),
        ("path", 3, _MSG, _ONE, ".ml_metadata.Event.Path"),
        ("type", 4, _I32, _ONE, ""),
    ],
    "Event.Path": [("steps", 1, _MSG, _MANY, ".ml_metadata.Event.Path.Step")],
    "Event.Path.Step": [("index", 1, _I64, _ONE, ""), ("key", 2, _STR, _ONE, "")],
    "GetContextByTypeAndNameRequest": [("type_name", 1, _STR, _ONE, ""), ("context_name", 2, _STR, _ONE, "")],
    "GetContextByTypeAndNameResponse": [("context", 1, _MSG, _ONE, ".ml_metadata.Context")],
    "GetExecutionsByContextRequest": [("context_id", 1, _I64, _ONE, "")],
    "GetExecutionsByContextResponse": [
        ("executions", 1, _MSG, _MANY, ".ml_metadata.Execution"),
        ("next_page_token", 2, _STR, _ONE, ""),
    ],
    "GetArtifactsByContextRequest": [("context_id", 1, _I64, _ONE, "")],
    "GetArtifactsByContextResponse": [
        ("artifacts", 1, _MSG, _MANY, ".ml_metadata.Artifact"),
        ("next_page_token", 2, _STR, _ONE, ""),
    ],
    "GetEventsByExecutionIDsRequest": [("execution_ids", 1, _I64, _MANY, "")],
    "GetEventsByExecutionIDsResponse": [("events", 1, _MSG, _MANY, ".ml_metadata.Event")],
}
_MAPS = ("Artifact", "Execution")  # each has custom_properties: map<string, Value>


def _build() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(struct_pb2.DESCRIPTOR.serialized_pb)
    file = descriptor_pb2.FileDescriptorProto(
        name="jupyter_mlops/ml_metadata_subset.proto", package=PACKAGE, syntax="proto2"
    )
    file.dependency.append("google/protobuf/struct.proto")
    made: dict[str, descriptor_pb2.DescriptorProto] = {}
    for full in _MESSAGES:  # parents come before their nested messages in the table
        outer, _, inner = full.rpartition(".")
        parent = file.message_type if not outer else made[outer].nested_type
        made[full] = parent.add(name=inner or full)
        for name, number, kind, label, type_name in _MESSAGES[full]:
            field = made[full].field.add(name=name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = type_name
        if full == "Value":
            made[full].oneof_decl.add(name="value")
            for field in made[full].field:
                field.oneof_index = 0
    for owner in _MAPS:
        entry = made[owner].nested_type.add(name="CustomPropertiesEntry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=_STR, label=_ONE)
        entry.field.add(name="value", number=2, type=_MSG, label=_ONE, type_name=".ml_metadata.Value")
    pool.Add(file)
    return {
        full: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{full}"))
        for full in _MESSAGES
    }


MESSAGES = _build()


def value_of(value: Any) -> Any:
    """An ml_metadata.Value as Python (a struct as a dict)."""
    from google.protobuf import json_format

    kind = value.WhichOneof("value")
    if kind == "struct_value":
        return json_format.MessageToDict(value.struct_value)
    return getattr(value, kind) if kind else None

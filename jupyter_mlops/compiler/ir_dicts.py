"""A kfp pipeline's IR (protobuf messages) as the dicts its YAML loads as, keys sorted, in one pass.

`kfp_ir.kfp_documents` took `json_format.MessageToDict` of the PipelineSpec and then sorted every
dict's keys in a second walk (kfp writes its YAML with sorted keys): ~55 ms of a 1,000-step
notebook's compile, most of it json_format's per-field dispatch (is it a map? repeated? which type?
a wrapper or a well-known type?) asked again for every field of every message.

`message_dict(message)` is `_sorted_keys(json_format.MessageToDict(message))` made in one walk,
with what json_format decides per field (its JSON name, map/repeated/single, how its values
convert) decided once per field descriptor and kept. It follows json_format's printer (protobuf 6,
default options) rule for rule where the IR needs it: regular messages (`ListFields()`: the fields
set, in field order, each under its `json_name`), maps (keys as text, `true`/`false` for bools),
repeated fields, `Struct`, `Value` and `ListValue`, strings, bools, enums by name (`null` for
`NullValue`), 64-bit integers as text, other integers and doubles as they are, floats through
json_format's own shortest form, bytes in base64. Anything else (an extension, `Any`, `Duration`,
`Timestamp`, `FieldMask`, a wrapper type, an infinite or NaN number, an enum number with no name)
makes the whole message go through json_format itself, and its keys sorted as before: the same
dicts, or the same error. tests/compiler/test_ir_dicts.py compares both on the IR of notebooks and
kfp pipelines and on messages built to hit every rule.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from google.protobuf import descriptor, json_format
from google.protobuf.internal import type_checkers

_F = descriptor.FieldDescriptor


class _Elsewhere(Exception):
    """Something json_format itself must convert."""


# What a message is (kept per descriptor)
_REGULAR, _STRUCT, _VALUE, _LIST, _OTHER = range(5)
_MESSAGES: dict[Any, int] = {}
# How a field's values convert, and the field's shape (kept per field descriptor)
_MESSAGE, _ENUM, _TEXT, _BYTES, _BOOL, _INT64, _DOUBLE, _FLOAT, _AS_IS = range(9)
_SINGLE, _REPEATED, _MAP = range(3)
_FIELDS: dict[Any, tuple[str, int, int, Any]] = {}


def message_dict(message: Any) -> Any:
    """`MessageToDict(message)` (default options) with every dict's keys sorted."""
    try:
        return _object(message)
    except _Elsewhere:
        return _sorted_keys(json_format.MessageToDict(message))


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def _message_kind(message_descriptor: Any) -> int:
    kind = _MESSAGES.get(message_descriptor)
    if kind is None:
        name = message_descriptor.full_name
        if name == "google.protobuf.Struct":
            kind = _STRUCT
        elif name == "google.protobuf.Value":
            kind = _VALUE
        elif name == "google.protobuf.ListValue":
            kind = _LIST
        elif (
            message_descriptor.file.name == "google/protobuf/wrappers.proto"
            or name.startswith("google.protobuf.")  # Any, Duration, Timestamp, FieldMask, Empty, ...
        ):
            kind = _OTHER
        else:
            kind = _REGULAR
        _MESSAGES[message_descriptor] = kind
    return kind


def _value_kind(field: Any) -> int:
    cpp = field.cpp_type
    if cpp == _F.CPPTYPE_MESSAGE:
        return _MESSAGE
    if cpp == _F.CPPTYPE_ENUM:
        return _ENUM
    if cpp == _F.CPPTYPE_STRING:
        return _BYTES if field.type == _F.TYPE_BYTES else _TEXT
    if cpp == _F.CPPTYPE_BOOL:
        return _BOOL
    if cpp in (_F.CPPTYPE_INT64, _F.CPPTYPE_UINT64):
        return _INT64
    if cpp == _F.CPPTYPE_DOUBLE:
        return _DOUBLE
    if cpp == _F.CPPTYPE_FLOAT:
        return _FLOAT
    return _AS_IS  # 32-bit integers


def _field(field: Any) -> tuple[str, int, int, Any]:
    """(JSON name, shape, how its values convert, the field whose values they are)."""
    plan = _FIELDS.get(field)
    if plan is None:
        if field.is_extension:
            raise _Elsewhere
        if json_format._IsMapEntry(field):
            values = field.message_type.fields_by_name["value"]
            plan = (field.json_name, _MAP, _value_kind(values), values)
        else:
            plan = (field.json_name, _REPEATED if field.is_repeated else _SINGLE, _value_kind(field), field)
        _FIELDS[field] = plan
    return plan


def _scalar(kind: int, field: Any, value: Any) -> Any:
    if kind == _MESSAGE:
        return _object(value)
    if kind == _TEXT:
        return str(value)
    if kind == _AS_IS:
        return value
    if kind == _BOOL:
        return bool(value)
    if kind == _INT64:
        return str(value)
    if kind in (_DOUBLE, _FLOAT):
        if math.isinf(value) or math.isnan(value):
            raise _Elsewhere
        return value if kind == _DOUBLE else type_checkers.ToShortestFloat(value)
    if kind == _ENUM:
        if field.enum_type.full_name == "google.protobuf.NullValue":
            return None
        named = field.enum_type.values_by_number.get(value, None)
        if named is None:
            raise _Elsewhere
        return named.name
    if kind == _BYTES:
        return base64.b64encode(value).decode("utf-8")
    raise _Elsewhere


def _value(value: Any) -> Any:
    """A `google.protobuf.Value` as JSON."""
    which = value.WhichOneof("kind")
    if which == "string_value":
        return str(value.string_value)
    if which == "list_value":
        return [_value(v) for v in value.list_value.values]
    if which == "struct_value":
        return _object(value.struct_value)
    if which == "number_value":
        number = value.number_value
        if math.isinf(number) or math.isnan(number):
            raise _Elsewhere
        return number
    if which == "bool_value":
        return bool(value.bool_value)
    if which is None or which == "null_value":
        return None
    raise _Elsewhere


def _object(message: Any) -> Any:
    kind = _message_kind(message.DESCRIPTOR)
    if kind == _REGULAR:
        found: dict[str, Any] = {}
        for field, value in message.ListFields():
            name, shape, how, values = _field(field)
            if shape == _SINGLE:
                found[name] = _scalar(how, values, value)
            elif shape == _REPEATED:
                found[name] = [_scalar(how, values, v) for v in value]
            else:
                entries = {
                    ("true" if key else "false") if isinstance(key, bool) else str(key): _scalar(
                        how, values, value[key]
                    )
                    for key in value
                }
                found[name] = {k: entries[k] for k in sorted(entries)}
        return {k: found[k] for k in sorted(found)}
    if kind == _STRUCT:
        fields = message.fields
        return {k: _value(fields[k]) for k in sorted(fields)}
    if kind == _LIST:
        return [_value(v) for v in message.values]
    if kind == _VALUE:
        return _value(message)
    raise _Elsewhere


def update_struct(struct: Any, message: Any) -> None:
    """`struct.update(json_format.MessageToDict(message))` for a regular `message` (kfp's last step of a
    DAG's build: the deployment config put in the PipelineSpec's `deploymentSpec` Struct), without the
    dicts in between: each field set in the Struct as `Struct.update` sets the value MessageToDict
    gives for it (well_known_types._SetStructValue: text, bool and number values, a dict cleared and
    filled, a list cleared and extended), in the same order. Made so only into an empty Struct; any
    value json_format converts its own way (see `message_dict`) clears it and leaves the whole of it
    to json_format and `update`, as do a Struct with fields already."""
    if len(struct.fields) == 0 and _message_kind(message.DESCRIPTOR) == _REGULAR:
        try:
            _fill(struct, message)
            return
        except _Elsewhere:
            struct.Clear()
    struct.update(json_format.MessageToDict(message))


def _fill(struct: Any, message: Any) -> None:
    fields = struct.fields
    for field, value in message.ListFields():
        name, shape, how, values = _field(field)
        if shape == _SINGLE:
            _set(fields[name], how, values, value)
        elif shape == _REPEATED:
            items = fields[name].list_value
            items.Clear()
            add = items.values.add
            for v in value:
                _set(add(), how, values, v)
        else:
            entries = fields[name].struct_value
            entries.Clear()
            for key in value:
                text = ("true" if key else "false") if isinstance(key, bool) else str(key)
                _set(entries.fields[text], how, values, value[key])


def _set(target: Any, how: int, field: Any, value: Any) -> None:
    """`_SetStructValue(target, <what MessageToDict gives for value>)`."""
    if how == _TEXT:
        target.string_value = str(value)
    elif how == _MESSAGE:
        if _message_kind(value.DESCRIPTOR) != _REGULAR:
            raise _Elsewhere
        inner = target.struct_value
        inner.Clear()
        _fill(inner, value)
    elif how == _AS_IS:
        target.number_value = value
    elif how == _BOOL:
        target.bool_value = bool(value)
    elif how == _INT64:
        target.string_value = str(value)
    elif how in (_DOUBLE, _FLOAT):
        if math.isinf(value) or math.isnan(value):
            raise _Elsewhere
        target.number_value = value if how == _DOUBLE else type_checkers.ToShortestFloat(value)
    elif how == _ENUM:
        if field.enum_type.full_name == "google.protobuf.NullValue":
            target.null_value = 0
            return
        named = field.enum_type.values_by_number.get(value, None)
        if named is None:
            raise _Elsewhere
        target.string_value = named.name
    elif how == _BYTES:
        target.string_value = base64.b64encode(value).decode("utf-8")
    else:
        raise _Elsewhere

"""The IR as dicts in one walk (compiler/ir_dicts.py) is json_format's MessageToDict with every dict's
keys sorted, key order included: on the IR of notebooks and of kfp pipelines with sub-DAGs, and on
messages built to hit each of json_format's rules (maps with bool and integer keys, bytes, 64-bit
integers, floats, enums with and without a name, Struct/Value/ListValue, well-known and wrapper types,
NaN and infinities: json_format's answer or its error)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from counting import calls_of
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    json_format,
    message_factory,
    struct_pb2,
    wrappers_pb2,
)

from jupyter_mlops.compiler import ir_dicts
from jupyter_mlops.compiler.kfp_ir import _build_pipeline
from jupyter_mlops.compiler.planner import plan_pipeline

from .kfp_sub_dags import sub_dag_pipelines
from .test_linear_compile import chain
from .test_second_pass import _pipelines


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _json_format(message: Any) -> Any:
    try:
        return _sorted(json_format.MessageToDict(message))
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))


def _ours(message: Any) -> Any:
    try:
        return ir_dicts.message_dict(message)
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))


def _same(message: Any) -> None:
    theirs, ours = _json_format(message), _ours(message)
    assert ours == theirs
    assert json.dumps(ours) == json.dumps(theirs)  # the key order too (and int vs float: 1 vs 1.0)


def test_notebooks_ir_as_dicts_is_json_formats() -> None:
    compiled = 0
    for pipeline in [*_pipelines().values(), chain(80)]:
        try:
            kfp_pipeline = _build_pipeline(plan_pipeline(pipeline))
        except Exception:  # the notebook's errors (tested elsewhere)
            continue
        _same(kfp_pipeline.pipeline_spec)
        _same(kfp_pipeline.platform_spec)
        compiled += 1
    assert compiled > 10


def test_kfp_pipelines_ir_as_dicts_is_json_formats() -> None:
    from kfp import dsl

    for name, function in sub_dag_pipelines().items():
        pipeline = dsl.pipeline(name=name)(function.pipeline_func)
        _same(pipeline.pipeline_spec)
        _same(pipeline.platform_spec)


def _test_messages() -> Any:
    """A message type with a field of each kind json_format converts its own way."""
    file = descriptor_pb2.FileDescriptorProto(
        name="jupyter_mlops_ir_dicts_test.proto",
        package="irdicts",
        syntax="proto3",
        dependency=[
            "google/protobuf/struct.proto",
            "google/protobuf/duration.proto",
            "google/protobuf/wrappers.proto",
        ],
    )
    color = file.enum_type.add(name="Color")
    for index, name in enumerate(["RED", "GREEN"]):
        color.value.add(name=name, number=index)
    F = descriptor_pb2.FieldDescriptorProto
    inner = file.message_type.add(name="Inner")
    inner.field.add(
        name="text_value", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, json_name="textValue"
    )
    outer = file.message_type.add(name="Outer")

    def map_of(name: str, number: int, key: int, value: int, type_name: str = "") -> None:
        entry = outer.nested_type.add(name=name[0].upper() + name[1:] + "Entry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=key, label=F.LABEL_OPTIONAL, json_name="key")
        typed = {"type_name": type_name} if type_name else {}
        entry.field.add(
            name="value", number=2, type=value, label=F.LABEL_OPTIONAL, json_name="value", **typed
        )
        outer.field.add(name=name, number=number, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                        type_name=f".irdicts.Outer.{entry.name}", json_name=name)  # fmt: skip

    fields = [
        ("some_text", F.TYPE_STRING, F.LABEL_OPTIONAL, ""),
        ("raw", F.TYPE_BYTES, F.LABEL_OPTIONAL, ""),
        ("big", F.TYPE_INT64, F.LABEL_OPTIONAL, ""),
        ("ubig", F.TYPE_UINT64, F.LABEL_REPEATED, ""),
        ("small", F.TYPE_INT32, F.LABEL_OPTIONAL, ""),
        ("flag", F.TYPE_BOOL, F.LABEL_OPTIONAL, ""),
        ("ratio", F.TYPE_DOUBLE, F.LABEL_OPTIONAL, ""),
        ("single", F.TYPE_FLOAT, F.LABEL_REPEATED, ""),
        ("color", F.TYPE_ENUM, F.LABEL_OPTIONAL, ".irdicts.Color"),
        ("colors", F.TYPE_ENUM, F.LABEL_REPEATED, ".irdicts.Color"),
        ("inner", F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".irdicts.Inner"),
        ("inners", F.TYPE_MESSAGE, F.LABEL_REPEATED, ".irdicts.Inner"),
        ("shape", F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Struct"),
        ("any_value", F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Value"),
        ("values", F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.ListValue"),
        ("took", F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Duration"),
        ("wrapped", F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Int64Value"),
    ]
    for number, (name, kind, label, type_name) in enumerate(fields, start=1):
        json_name = name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
        typed = {"type_name": type_name} if type_name else {}
        outer.field.add(name=name, number=number, type=kind, label=label, json_name=json_name, **typed)
    map_of("by_flag", 40, F.TYPE_BOOL, F.TYPE_STRING)
    map_of("by_number", 41, F.TYPE_INT32, F.TYPE_DOUBLE)
    map_of("by_name", 42, F.TYPE_STRING, F.TYPE_MESSAGE, ".irdicts.Inner")
    map_of("by_big", 43, F.TYPE_INT64, F.TYPE_ENUM, ".irdicts.Color")
    pool = descriptor_pool.DescriptorPool()
    for dependency in (struct_pb2, duration_pb2, wrappers_pb2):
        pool.AddSerializedFile(dependency.DESCRIPTOR.serialized_pb)
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("irdicts.Outer"))


def test_messages_of_every_kind_as_dicts_are_json_formats() -> None:
    Outer = _test_messages()
    _same(Outer())
    full = Outer(
        some_text="é\n", raw=b"\x00\xffbytes", big=-(2**62), ubig=[0, 2**64 - 1], small=-7, flag=True,
        ratio=0.1, single=[0.1, 3.0, 1e30], color=1, colors=[0, 1, 0],
    )  # fmt: skip
    full.inner.text_value = "x"
    full.inners.add(text_value="a")
    full.inners.add()
    full.shape.update({"z": 1, "a": [1, "two", None, True, {"q": {}, "b": []}], "m": {"y": 2.5, "c": False}})
    full.any_value.string_value = "v"
    full.values.extend([1, None, "s", [2, [3]], {"k": "v"}])
    full.by_flag[True] = "yes"
    full.by_flag[False] = "no"
    full.by_number[10] = 1.5
    full.by_number[-2] = 2.0
    full.by_number[9] = 0.0
    full.by_name["b"].text_value = "B"
    full.by_name["a"].text_value = ""
    full.by_big[2**40] = 1
    _same(full)
    for value in ({"n": None}, {"l": []}, {"s": {}}):
        message = Outer()
        message.shape.update(value)
        _same(message)
    message = Outer()
    message.any_value.null_value = 0
    _same(message)


@pytest.mark.parametrize(
    "change",
    [
        lambda m: setattr(m, "ratio", float("inf")),
        lambda m: setattr(m, "ratio", float("nan")),
        lambda m: m.single.append(float("-inf")),
        lambda m: m.shape.update({"x": float("inf")}),
        lambda m: m.values.append(float("nan")),
        lambda m: setattr(m.any_value, "number_value", float("-inf")),
        lambda m: setattr(m, "color", 7),  # an open enum's number without a name
        lambda m: m.colors.append(9),
        lambda m: m.by_big.__setitem__(1, 5),
        lambda m: setattr(m.took, "seconds", 3),
        lambda m: setattr(m.wrapped, "value", 2**40),
        lambda m: m.by_name["n"].text_value.__class__,  # an empty message in a map
    ],
)
def test_what_json_format_converts_its_own_way_is_its_answer(change: Any) -> None:
    Outer = _test_messages()
    message = Outer(some_text="t", big=3)
    message.shape.update({"k": [1, 2]})
    change(message)
    _same(message)


def test_a_messages_dicts_come_from_one_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """(Before: MessageToDict, then a second walk sorting every dict's keys.)"""
    from jupyter_mlops.compiler.kfp_ir import kfp_documents

    assert ir_dicts.message_dict(struct_pb2.Struct()) == {}
    pipeline = _build_pipeline(plan_pipeline(chain(5)))
    with monkeypatch.context() as patched:
        calls = calls_of(patched, json_format, "MessageToDict")
        documents = kfp_documents(pipeline)
    assert len(calls) == 0
    assert documents == [_sorted(json_format.MessageToDict(pipeline.pipeline_spec))]


def _struct_both_ways(message: Any, start: dict[str, Any] | None = None) -> None:
    """kfp's `Struct.update(MessageToDict(message))` and `update_struct`: the same Struct, to the byte
    (its fields' order too), or the same error."""
    theirs, ours = struct_pb2.Struct(), struct_pb2.Struct()
    if start:
        theirs.update(start)
        ours.update(start)
    try:
        theirs.update(json_format.MessageToDict(message))
        expected: Any = theirs.SerializeToString()
    except Exception as exc:
        expected = ("error", type(exc).__name__, str(exc))
    try:
        ir_dicts.update_struct(ours, message)
        got: Any = ours.SerializeToString()
    except Exception as exc:
        got = ("error", type(exc).__name__, str(exc))
    assert got == expected
    if not isinstance(got, tuple):
        assert ours == theirs


def test_a_deployment_config_put_in_a_struct_is_kfps() -> None:
    from kfp.pipeline_spec import pipeline_spec_pb2

    configs = []
    for pipeline in [*_pipelines().values(), chain(30)]:
        try:
            spec = _build_pipeline(plan_pipeline(pipeline)).pipeline_spec
        except Exception:
            continue
        config = pipeline_spec_pb2.PipelineDeploymentConfig()
        json_format.ParseDict(json_format.MessageToDict(spec.deployment_spec), config)
        configs.append(config)
    assert len(configs) > 10
    for config in configs:
        _struct_both_ways(config)
        _struct_both_ways(config, start={"executors": {"old": "x"}, "other": [1, 2]})  # not empty: kfp's


def test_messages_of_every_kind_put_in_a_struct_are_kfps() -> None:
    Outer = _test_messages()
    _struct_both_ways(Outer())
    full = Outer(some_text="t", raw=b"\x01", big=2**50, ubig=[1, 2], small=3, flag=True, ratio=0.25)
    full.single.extend([0.1, 2.0])
    full.colors.extend([1, 0])
    full.color = 1
    full.inner.text_value = "i"
    full.inners.add(text_value="a")
    full.by_flag[False] = "n"
    full.by_flag[True] = "y"
    full.by_number[3] = 1.0
    full.by_name["k"].text_value = "v"
    full.by_big[7] = 1
    _struct_both_ways(full)
    for change in [
        lambda m: setattr(m, "ratio", float("nan")),  # json_format's "NaN": kfp's way
        lambda m: setattr(m, "color", 9),
        lambda m: m.shape.update({"a": 1}),  # a Struct field: kfp's way
        lambda m: setattr(m.took, "seconds", 1),
        lambda m: setattr(m.wrapped, "value", 3),
        lambda m: m.values.append(float("inf")),  # an error either way
    ]:
        message = Outer(some_text="t")
        message.inner.text_value = "i"
        change(message)
        _struct_both_ways(message)


def test_the_deployment_spec_is_made_without_message_to_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_mlops.compiler import kfp_dag

    plan = plan_pipeline(chain(80))  # a DAG the loop builds (kfp_dag.MIN_TASKS)
    calls = calls_of(monkeypatch, json_format, "MessageToDict")
    built = []
    loop = kfp_dag._build_tasks_dag
    monkeypatch.setattr(kfp_dag, "_build_tasks_dag", lambda *a, **k: built.append(1) or loop(*a, **k))
    _build_pipeline(plan)
    assert built and len(calls) == 0, len(calls)  # 1 before

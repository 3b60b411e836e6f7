"""Parameter values and artifacts as they travel between steps, typed the way a KFP cluster types them."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import PipelineError, UsageError

_SELECTOR = re.compile(r'^parseJson\(string_value\)((?:\["(?:[^"\\]|\\.)*"\]|\[\d+\])*)$')
_SELECTOR_PART = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]')


@dataclass
class Artifact:
    """A runtime artifact: what kfp's executor input calls a RuntimeArtifact."""

    name: str
    uri: str
    schema_title: str = "system.Artifact"
    schema_version: str = "0.0.1"
    metadata: dict[str, Any] = field(default_factory=dict)
    digest: str | None = None  # sha256 of the content, computed once when a cache key needs it
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def runtime_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": {"schemaTitle": self.schema_title, "schemaVersion": self.schema_version},
            "uri": self.uri,
            "metadata": self.metadata,
        }

    def content_digest(self) -> str:
        with self._lock:
            if self.digest is None:
                self.digest = content_hash(Path(self.uri))
            return self.digest


def content_hash(path: Path) -> str:
    """sha256 of a file, or of a directory's relative file names and contents; "missing" if absent."""
    h = hashlib.sha256()
    if path.is_file():
        _hash_file(h, path)
    elif path.is_dir():
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = Path(root, name)
                h.update(str(full.relative_to(path)).encode() + b"\0")
                _hash_file(h, full)
    else:
        return "missing"
    return h.hexdigest()


def _hash_file(h: Any, path: Path) -> None:
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    h.update(b"\0")


def cast_parameter(value: Any, parameter_type: str, where: str) -> Any:
    """A value as the executor must receive it for `parameter_type` (protobuf turns every int to float)."""
    if value is None:
        return None
    given = value
    try:
        if parameter_type == "NUMBER_INTEGER":
            if isinstance(value, str):
                value = float(value)
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"{value!r} is not a whole number")
            return int(value)
        if parameter_type == "NUMBER_DOUBLE":
            return float(value)
        if parameter_type == "BOOLEAN":
            if isinstance(value, str):
                if value.lower() not in ("true", "false"):
                    raise ValueError(f"{value!r} is not true or false")
                return value.lower() == "true"
            return bool(value)
        if parameter_type in ("LIST", "STRUCT"):
            if isinstance(value, str):
                value = json.loads(value)
            expected = list if parameter_type == "LIST" else dict
            if not isinstance(value, expected):
                raise ValueError(f"{value!r} is not a {expected.__name__}")
            return value
    except (TypeError, ValueError) as e:
        takes = _WORDS.get(parameter_type, parameter_type)
        raise PipelineError(f"{where}: {given!r} is not {takes} (the parameter is {parameter_type})") from e
    return value


# What a user may give for each parameter type (a text form too: `-p lr=0.1` on the command line).
_ACCEPTED: dict[str, tuple[type, ...]] = {
    "STRING": (str,),
    "NUMBER_INTEGER": (int, float, str),
    "NUMBER_DOUBLE": (int, float, str),
    "BOOLEAN": (bool, str),
    "LIST": (list, str),
    "STRUCT": (dict, str),
}
_WORDS = {
    "STRING": "a string",
    "NUMBER_INTEGER": "a whole number",
    "NUMBER_DOUBLE": "a number",
    "BOOLEAN": "true or false",
    "LIST": "a list",
    "STRUCT": "an object",
}


def check_argument(value: Any, parameter_type: str, name: str, *, optional: bool = False) -> None:
    """Refuse an argument the parameter's type cannot take, before anything runs: a run would
    otherwise start and fail inside a step (`"lr": null`), or run with a value of the wrong kind (a
    dict for a STRING). UsageError naming the argument and what it takes."""
    accepted = _ACCEPTED.get(parameter_type)
    if accepted is None or (value is None and optional):
        return
    if value is None:
        wrong = True
    elif isinstance(value, bool):  # a bool is an int to Python, never a number to a user
        wrong = bool not in accepted
    else:
        wrong = not isinstance(value, accepted)
    if wrong:
        shown = "null" if value is None else json.dumps(value) if _jsonable(value) else repr(value)
        raise UsageError(
            f"argument {name!r} is {parameter_type} and takes {_WORDS[parameter_type]}, not {shown[:80]}"
        )


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def apply_selector(value: Any, expression: str, where: str) -> Any:
    """kfp's `parameterExpressionSelector` (`parseJson(string_value)["key"]`) on a loop item."""
    m = _SELECTOR.match(expression.strip())
    if m is None:
        raise PipelineError(f"{where}: unsupported parameterExpressionSelector {expression!r}")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise PipelineError(f"{where}: {value!r} is not JSON for {expression!r}") from e
    for part in _SELECTOR_PART.finditer(m.group(1)):
        key: str | int = part.group(1) if part.group(1) is not None else int(part.group(2))
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError) as e:
            raise PipelineError(f"{where}: {expression!r} finds nothing in {value!r}") from e
    return value


def read_output_parameter(path: Path, parameter_type: str, where: str) -> Any:
    """A `dsl.OutputPath(T)` file's value, read the way the KFP backend reads it."""
    text = path.read_text()
    try:
        if parameter_type == "STRING":
            return text
        if parameter_type == "BOOLEAN":
            return json.loads(text.lower())
        return cast_parameter(json.loads(text), parameter_type, where)
    except ValueError as e:
        raise PipelineError(
            f"{where}: cannot read output {path.name!r} as {parameter_type}: {text[:80]!r}"
        ) from e


def pipeline_arguments(root: Mapping[str, Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The root DAG's parameter values: defaults, overridden by `arguments`, typed; errors name the input.

    A pipeline's artifact inputs (`Input[Dataset]` on the pipeline function) are given as a path or URI
    and come back as `Artifact`s.
    """
    inputs = root.get("inputDefinitions", {}) or {}
    definitions: Mapping[str, Any] = inputs.get("parameters", {}) or {}
    artifact_definitions: Mapping[str, Any] = inputs.get("artifacts", {}) or {}
    unknown = sorted(set(arguments) - set(definitions) - set(artifact_definitions))
    if unknown:
        known = ", ".join(sorted([*definitions, *artifact_definitions])) or "none"
        raise UsageError(f"the pipeline has no parameter {', '.join(unknown)} (parameters: {known})")
    values: dict[str, Any] = {}
    missing = []
    for name, spec in definitions.items():
        if name in arguments:
            kind = spec.get("parameterType", "")
            # null only where the parameter's own default is None (optional, with no defaultValue)
            nullable = bool(spec.get("isOptional")) and "defaultValue" not in spec
            check_argument(arguments[name], kind, name, optional=nullable)
            values[name] = cast_parameter(arguments[name], kind, f"argument {name!r}")
        elif "defaultValue" in spec:
            values[name] = cast_parameter(spec["defaultValue"], spec.get("parameterType", ""), name)
        elif not spec.get("isOptional"):
            missing.append(name)
    for name, spec in artifact_definitions.items():
        if name in arguments:
            schema = spec.get("artifactType") or {}
            values[name] = Artifact(
                name=name,
                uri=str(arguments[name]),
                schema_title=str(schema.get("schemaTitle", "system.Artifact")),
                schema_version=str(schema.get("schemaVersion", "0.0.1")),
            )
        elif not spec.get("isOptional"):
            missing.append(name)
    if missing:
        raise UsageError(f"the pipeline is missing {len(missing)} required argument(s): {', '.join(missing)}")
    return values

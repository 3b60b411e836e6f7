"""A sweep's search space: typed ranges over the pipeline's parameters.

Written on a magic line or the command line as `NAME=SPEC`:

    lr=0.01,0.1,1          a choice of values (typed by the parameter: int, float, str, bool)
    depth=2..8             an int range, both ends included (an int parameter)
    depth=2..16:2          ... with a step
    dropout=0.0..0.5       a float range (a float parameter); a grid needs a step: 0.0..0.5:0.1
    lr=1e-4..1e-1:log      a log-scaled range (random and TPE search)
    epochs=5               one value: a fixed argument of every trial

From Python, `mlops.sweep(..., space={"lr": [0.01, 0.1], "depth": range(2, 9), "alpha": loguniform(1e-4,
1e-1)})`, or the same strings. The parameter types come from the compiled pipeline's inputs, so a YAML
file sweeps as a notebook does.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError

# KFP parameter types -> the names users know from `%%pipeline params`.
KFP_TYPES = {
    "NUMBER_INTEGER": "int",
    "NUMBER_DOUBLE": "float",
    "STRING": "str",
    "BOOLEAN": "bool",
    "LIST": "list",
    "STRUCT": "dict",
}
GRID_LIMIT = 100_000


@dataclass(frozen=True)
class Choice:
    values: tuple[Any, ...]


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    step: int = 1
    log: bool = False


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    step: float | None = None
    log: bool = False


Dimension = Choice | IntRange | FloatRange


def choice(*values: Any) -> Choice:
    return Choice(tuple(values))


def uniform(low: float, high: float, step: float | None = None) -> FloatRange:
    return FloatRange(float(low), float(high), step)


def loguniform(low: float, high: float) -> FloatRange:
    return FloatRange(float(low), float(high), None, True)


def int_range(low: int, high: int, step: int = 1, *, log: bool = False) -> IntRange:
    return IntRange(int(low), int(high), int(step), log)


def pipeline_param_types(documents: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Parameter name -> int/float/str/bool/list/dict, from the compiled pipeline's root inputs."""
    for doc in documents:
        spec = doc.get("pipelineSpec", doc)
        if isinstance(spec, Mapping) and "root" in spec:
            params = ((spec.get("root") or {}).get("inputDefinitions") or {}).get("parameters") or {}
            return {name: KFP_TYPES.get(str(p.get("parameterType")), "str") for name, p in params.items()}
    return {}


def _a(kind: str) -> str:
    return f"an {kind}" if kind == "int" else f"a {kind}"


def _value(name: str, kind: str, raw: str) -> Any:
    """One value typed as parameter `name` (of type `kind`) takes it."""
    if kind == "str":
        return raw
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        raise UsageError(f"sweep: parameter {name!r} is {_a(kind)}; {raw!r} is not one") from None
    return _typed(name, kind, value)


def _typed(name: str, kind: str, value: Any) -> Any:
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "list": isinstance(value, list),
        "dict": isinstance(value, dict),
    }.get(kind, True)
    if not ok:
        raise UsageError(f"sweep: parameter {name!r} is {_a(kind)}; {value!r} is not one")
    return float(value) if kind == "float" else value


def parse_dimension(name: str, kind: str, spec: str) -> Dimension | Any:
    """A dimension from its text, or a plain value (a fixed argument) when the text is one value."""
    text = spec.strip()
    if ".." in text and kind in ("int", "float"):
        bounds, *flags = text.split(":")
        low_text, _, high_text = bounds.partition("..")
        log = "log" in flags
        steps = [f for f in flags if f != "log"]
        if len(steps) > 1 or (log and steps):
            raise UsageError(f"sweep: {name}={spec}: write LOW..HIGH, LOW..HIGH:STEP or LOW..HIGH:log")
        low, high = _value(name, kind, low_text), _value(name, kind, high_text)
        if low > high:
            raise UsageError(f"sweep: {name}={spec}: the range's low end {low} is above its high end {high}")
        if log and low <= 0:
            raise UsageError(f"sweep: {name}={spec}: a log range needs a positive low end")
        step = _value(name, kind, steps[0]) if steps else None
        if step is not None and step <= 0:
            raise UsageError(f"sweep: {name}={spec}: the step must be positive")
        if kind == "int":
            return IntRange(low, high, int(step or 1), log)
        return FloatRange(low, high, step, log)
    if ".." in text:
        raise UsageError(
            f"sweep: {name}={spec}: a range LOW..HIGH needs an int or float parameter ({name} is {_a(kind)})"
        )
    parts = text.split(",") if kind not in ("list", "dict") else [text]
    values = tuple(_value(name, kind, p) for p in parts)
    return values[0] if len(values) == 1 else Choice(values)


def from_python(name: str, kind: str, value: Any) -> Dimension | Any:
    """A dimension from what `mlops.sweep(space=...)` was given."""
    if isinstance(value, (Choice, IntRange, FloatRange)):
        return value
    if isinstance(value, str) and kind != "str":
        return parse_dimension(name, kind, value)
    if isinstance(value, range):
        if len(value) == 0:
            raise UsageError(f"sweep: {name}: {value!r} is empty")
        return IntRange(value.start, value[-1], abs(value.step)) if value.step > 0 else Choice(tuple(value))
    if isinstance(value, (list, tuple)) and kind != "list":
        if not value:
            raise UsageError(f"sweep: {name}: give at least one value")
        return Choice(tuple(_typed(name, kind, v) for v in value))
    return _typed(name, kind, value)


@dataclass(frozen=True)
class Space:
    dimensions: dict[str, Dimension]
    fixed: dict[str, Any]

    def grid(self) -> list[dict[str, Any]]:
        """Every combination, in order (the first parameter varies slowest)."""
        axes = [[(name, v) for v in _grid_values(name, dim)] for name, dim in self.dimensions.items()]
        size = math.prod(len(a) for a in axes)
        if size > GRID_LIMIT:
            raise UsageError(f"sweep: the grid has {size} points; narrow it or use --random K / --search tpe")
        return [dict(point) for point in itertools.product(*axes)]

    def to_json(self) -> dict[str, Any]:
        return {
            "dimensions": {n: {"type": type(d).__name__, **vars(d)} for n, d in self.dimensions.items()},
            "fixed": self.fixed,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Space:
        kinds = {"Choice": Choice, "IntRange": IntRange, "FloatRange": FloatRange}
        dims: dict[str, Dimension] = {}
        for name, d in data.get("dimensions", {}).items():
            fields = {k: (tuple(v) if k == "values" else v) for k, v in d.items() if k != "type"}
            dims[name] = kinds[d["type"]](**fields)
        return Space(dims, dict(data.get("fixed", {})))


def _grid_values(name: str, dim: Dimension) -> list[Any]:
    if isinstance(dim, Choice):
        return list(dim.values)
    if isinstance(dim, IntRange):
        if dim.log:
            raise UsageError(
                f"sweep: {name}: a grid cannot walk a log range; list the values or use --random/--search tpe"
            )
        return list(range(dim.low, dim.high + 1, dim.step))
    if dim.step is None or dim.log:
        raise UsageError(
            f"sweep: {name}: a grid needs values: give a step ({name}={dim.low}..{dim.high}:0.1) or a list "
            f"({name}=0.1,0.2), or search it with --random K or --search tpe"
        )
    count = math.floor((dim.high - dim.low) / dim.step + 1e-9) + 1
    return [round(dim.low + i * dim.step, 12) for i in range(count)]


def build_space(items: Mapping[str, Any], types: Mapping[str, str], *, text: bool = False) -> Space:
    """The space of `items` (NAME -> spec text when `text`, else Python values) over parameters `types`."""
    dims: dict[str, Dimension] = {}
    fixed: dict[str, Any] = {}
    for name, spec in items.items():
        kind = types.get(name)
        if kind is None:
            known = ", ".join(types) or "none"
            raise UsageError(
                f"sweep: the pipeline has no parameter {name!r} (parameters: {known}); "
                "sweep the names of its %%pipeline params cell"
            )
        dim = parse_dimension(name, kind, str(spec)) if text else from_python(name, kind, spec)
        if isinstance(dim, (Choice, IntRange, FloatRange)):
            dims[name] = dim
        else:
            fixed[name] = dim
    if not dims:
        raise UsageError(
            "sweep: nothing to search: give a parameter two or more values or a range (k=1,2,3 or n=2..8)"
        )
    return Space(dims, fixed)


def parse_items(words: Sequence[str]) -> dict[str, str]:
    """`k=spec` words -> {k: spec}."""
    out: dict[str, str] = {}
    for word in words:
        key, sep, spec = word.partition("=")
        if not sep or not key.isidentifier() or not spec:
            raise UsageError(f"sweep: expected NAME=VALUES (lr=0.01,0.1 or n=2..8), got {word!r}")
        out[key] = spec
    return out

"""A listed run's parameter values, read with what its pipeline's root declares, prepared once per spec.

A page of runs lists many runs of few pipelines: what the root DAG says of its parameters (their order,
types, defaults, which may be null) is read once per distinct spec on the page (`plan_of`), and each run
then only types the values it was given (`parameters_of`). The values are those `ir.values.
pipeline_arguments` gives (the run's given values checked and typed, the defaults for the rest); anything
that reading does not cover the same way (artifact inputs, a default that does not read as its type) has
no plan, and the caller reads that run the general way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...ir.values import cast_parameter, check_argument


@dataclass(frozen=True)
class ParameterPlan:
    kinds: dict[str, str]  # name -> parameterType, in the root's order
    defaults: dict[str, Any]  # name -> its default as typed (parameters that have one)
    nullable: frozenset[str]  # optional with no default: null is a value
    required: frozenset[str]  # neither a default nor optional


def plan_of(root: Mapping[str, Any]) -> ParameterPlan | None:
    """What the root DAG declares of its parameters, or None where runs must be read the general way."""
    inputs = root.get("inputDefinitions", {}) or {}
    if inputs.get("artifacts"):
        return None
    definitions: Mapping[str, Any] = inputs.get("parameters", {}) or {}
    kinds: dict[str, str] = {}
    defaults: dict[str, Any] = {}
    nullable, required = set(), set()
    try:
        for name, spec in definitions.items():
            kind = spec.get("parameterType", "")
            kinds[name] = kind
            if "defaultValue" in spec:
                defaults[name] = cast_parameter(spec["defaultValue"], kind, name)
            elif spec.get("isOptional"):
                nullable.add(name)
            else:
                required.add(name)
    except Exception:  # a default that does not read as its type: only a run that gives it a value reads
        return None
    return ParameterPlan(kinds, defaults, frozenset(nullable), frozenset(required))


def parameters_of(plan: ParameterPlan, given: dict[str, Any]) -> dict[str, Any] | None:
    """The run's parameter values (as `pipeline_arguments(root, given)`), or None where that reading
    refuses them (an unknown name, a missing or mistyped value): the caller then shows them as given."""
    kinds = plan.kinds
    if not given.keys() <= kinds.keys() or not plan.required <= given.keys():
        return None
    values: dict[str, Any] = {}
    try:
        for name, kind in kinds.items():
            if name in given:
                value = given[name]
                check_argument(value, kind, name, optional=name in plan.nullable)
                values[name] = cast_parameter(value, kind, f"argument {name!r}")
            elif name in plan.defaults:
                values[name] = plan.defaults[name]
    except Exception:
        return None
    return values

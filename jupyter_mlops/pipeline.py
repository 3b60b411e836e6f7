"""A notebook pipeline: its setup cell, parameters and steps, as the kernel or the CLI collected them.

Defining steps is cheap (no kfp); analysis and compilation happen on demand.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .component_options import SetupOptions, StepOptions
from .errors import CellError, PipelineError, UsageError

if TYPE_CHECKING:
    from .compiler import PipelinePlan

PARAM_TYPES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    list: "list",
    dict: "dict",
}


@dataclass(frozen=True)
class StepDef:
    name: str
    source: str  # the cell body as written (IPython syntax allowed), without the magic line
    options: StepOptions = field(default_factory=StepOptions)


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # int, float, str, bool, list, dict
    default: Any


def normalize_source(source: str) -> str:
    """The same text whether it came from a kernel cell or an .ipynb file (trailing blanks dropped)."""
    lines = [line.rstrip() for line in source.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + ("\n" if lines else "")


def parse_params(source: str, *, cell: str = "%%pipeline params") -> dict[str, Param]:
    """Each top-level `name = literal` (or `name: type = literal`) is a parameter with that default."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise CellError(f"invalid syntax: {exc.msg}", cell=cell, line=exc.lineno) from None
    params: dict[str, Param] = {}
    for node in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if not isinstance(target, ast.Name) or value is None:
            raise CellError(
                "a params cell holds only `name = value` lines with literal values "
                f"(int, float, str, bool, list, dict); this line is `{ast.unparse(node)}`",
                cell=cell,
                line=node.lineno,
            )
        try:
            default = ast.literal_eval(value)
        except ValueError:
            raise CellError(
                f"parameter {target.id!r} needs a literal default (a number, string, bool, list or "
                f"dict), not `{ast.unparse(value)}`",
                cell=cell,
                line=node.lineno,
            ) from None
        kind = PARAM_TYPES.get(type(default))
        if kind is None:
            raise CellError(
                f"parameter {target.id!r} has a default of type {type(default).__name__}; "
                "use int, float, str, bool, list or dict",
                cell=cell,
                line=node.lineno,
            )
        params[target.id] = Param(target.id, kind, default)
    return params


def parse_assignments(items: list[str], pipeline: Pipeline | None) -> dict[str, Any]:
    """`k=v` words -> arguments, typed by the pipeline's parameters where known."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.isidentifier():
            raise UsageError(f"expected NAME=VALUE, got {item!r}")
        param = pipeline.params.get(key) if pipeline else None
        if param is not None and param.type == "str":
            out[key] = raw
            continue
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            if param is not None:
                raise UsageError(f"parameter {key!r} is a {param.type}; {raw!r} is not one") from None
            out[key] = raw
    return out


@dataclass
class Pipeline:
    """A pipeline being defined in a notebook: steps in the order they were first defined."""

    name: str
    steps: dict[str, StepDef] = field(default_factory=dict)
    setup: str = ""
    setup_options: SetupOptions = field(default_factory=SetupOptions)
    params_source: str = ""
    params: dict[str, Param] = field(default_factory=dict)

    def define_step(self, step: StepDef) -> None:
        """Add a step, or replace the earlier definition of a step of the same name (keeping its place)."""
        self.steps[step.name] = step

    def remove_step(self, name: str) -> None:
        if name not in self.steps:
            raise PipelineError(f"pipeline {self.name!r} has no step {name!r}")
        del self.steps[name]

    def set_setup(self, source: str, options: SetupOptions | None = None) -> None:
        self.setup = normalize_source(source)
        self.setup_options = options or SetupOptions()

    def set_params(self, source: str) -> None:
        self.params = parse_params(source)
        self.params_source = normalize_source(source)

    def __iter__(self) -> Iterator[StepDef]:
        return iter(self.steps.values())

    def plan(self) -> PipelinePlan:
        """Analyse the cells and infer the data flow (raises CellError/PipelineError with locations)."""
        from .compiler import plan_pipeline

        return plan_pipeline(self)

    def compile_documents(self) -> list[dict[str, Any]]:
        """The compiled KFP IR: the PipelineSpec, then the Kubernetes platform spec if any."""
        from .compiler import compile_documents

        return compile_documents(self)

    def compile_yaml(self) -> str:
        from .compiler import compile_yaml

        return compile_yaml(self)

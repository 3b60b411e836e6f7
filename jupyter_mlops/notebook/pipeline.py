"""A notebook pipeline: its setup cell, parameters and steps, as the kernel or the CLI collected them.

Defining steps is cheap (no kfp); analysis and compilation happen on demand.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import CellError, PipelineError, UsageError
from .options import SetupOptions, StepOptions
from .plain_cells import PlainCells

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
    default: Any  # None: an optional parameter (`name: Optional[int] = None`), None unless a run gives it

    @property
    def signature(self) -> str:
        """`rate: float = 0.5`, `limit: Optional[int] = None`: as a Python signature writes it."""
        if self.default is None:
            return f"{self.name}: Optional[{self.type}] = None"
        return f"{self.name}: {self.type} = {self.default!r}"


def normalize_source(source: str) -> str:
    """The same text whether it came from a kernel cell or an .ipynb file (trailing blanks dropped)."""
    lines = [line.rstrip() for line in source.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + ("\n" if lines else "")


def parse_params(source: str, *, cell: str = "%%pipeline params", first_line: int = 2) -> dict[str, Param]:
    """Each top-level `name = literal` (or `name: type = literal`) is a parameter with that default.

    `first_line`: the user's number of the body's first line (2: the magic line is line 1).
    """
    shift = first_line - 1
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        line = None if exc.lineno is None else exc.lineno + shift
        raise CellError(f"invalid syntax: {exc.msg}", cell=cell, line=line) from None
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
                line=node.lineno + shift,
            )
        try:
            default = ast.literal_eval(value)
        except ValueError:
            raise CellError(
                f"parameter {target.id!r} needs a literal default (a number, string, bool, list or "
                f"dict), not `{ast.unparse(value)}`",
                cell=cell,
                line=node.lineno + shift,
            ) from None
        kind = PARAM_TYPES.get(type(default))
        if default is None:
            kind = _optional_type(target.id, node, cell=cell, line=node.lineno + shift)
        if kind is None:
            raise CellError(
                f"parameter {target.id!r} has a default of type {type(default).__name__}; "
                "use int, float, str, bool, list or dict",
                cell=cell,
                line=node.lineno + shift,
            )
        params[target.id] = Param(target.id, kind, default)
    return params


# The annotations a None default may have, by the type they name: `Optional[int]`, `int | None`, `int`.
_TYPE_NAMES = {"bool": "bool", "int": "int", "float": "float", "str": "str", "list": "list", "dict": "dict",
               "List": "list", "Dict": "dict", "Sequence": "list", "Mapping": "dict"}  # fmt: skip


def _optional_type(name: str, node: ast.stmt, *, cell: str, line: int) -> str:
    """The type of a parameter whose default is None, from its annotation: an optional parameter."""
    annotation = node.annotation if isinstance(node, ast.AnnAssign) else None
    if annotation is None:
        raise CellError(
            f"parameter {name!r} has None as its default, which says no type: write `{name}: "
            f"Optional[str] = None` (or int, float, bool, list, dict) for an optional parameter, "
            "None unless a run gives it",
            cell=cell,
            line=line,
        )
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:  # `name: "Optional[int]" = None`
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            pass
    inner = _without_none(annotation)
    target = inner.value if isinstance(inner, ast.Subscript) else inner  # List[int] -> List
    kind = _TYPE_NAMES.get(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    if kind is None:
        raise CellError(
            f"parameter {name!r}: `{ast.unparse(annotation)}` is not a type a pipeline parameter can "
            "have; use Optional[T] with T one of int, float, str, bool, list, dict",
            cell=cell,
            line=line,
        )
    return kind


def _without_none(annotation: ast.expr) -> ast.expr:
    """`Optional[T]`, `T | None`, `None | T` -> T; anything else as it is."""
    if isinstance(annotation, ast.Subscript):
        head = annotation.value
        if (head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")) == "Optional":
            return annotation.slice
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [annotation.left, annotation.right]
        kept = [s for s in sides if not (isinstance(s, ast.Constant) and s.value is None)]
        if len(kept) == 1:
            return kept[0]
    return annotation


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


@dataclass(frozen=True)
class SetupCell:
    source: str  # normalized body, without the magic line
    options: SetupOptions = field(default_factory=SetupOptions)


# The cell key of definitions made without one (the API, old callers): one such cell, replaced each time.
UNKEYED = ""


@dataclass
class Pipeline:
    """A pipeline being defined in a notebook: steps in the order they were first defined.

    Setup and params cells accumulate, each under its cell's key (the notebook cell id, else its
    position or text: see `Workspace`), in the order the keys first came; defining a key again
    replaces that cell in its place. `step_cells` remembers which step each cell defined, so a cell
    re-run under a new name replaces its old step.
    """

    name: str
    steps: dict[str, StepDef] = field(default_factory=dict)
    setup_cells: dict[str, SetupCell] = field(default_factory=dict)
    params_cells: dict[str, str] = field(default_factory=dict)
    params: dict[str, Param] = field(default_factory=dict)
    step_cells: dict[str, str] = field(default_factory=dict)  # cell key -> step name
    # The notebook's plain cells (shared by its pipelines), for hints on names no step provides.
    plain_cells: PlainCells = field(default_factory=PlainCells, compare=False, repr=False)
    # The notebook's folder when read from a file (the command line, the server): its own modules
    # (`from helpers import *`) are found there, as the kernel finds them in its working directory.
    folder: str | None = field(default=None, compare=False, repr=False)

    @property
    def setup(self) -> str:
        """Every setup cell's code, in notebook order, a blank line between cells."""
        return "\n".join(cell.source for cell in self.setup_cells.values() if cell.source)

    @property
    def setup_options(self) -> SetupOptions:
        """The setup cells' options combined: every package once, in order; auto (and inline runtime)
        if any cell says so.

        (`define_only` is each cell's own: whether that cell runs in the kernel.)
        """
        packages: dict[str, None] = {}
        extra: dict[str, str] = {}
        for cell in self.setup_cells.values():
            packages.update(dict.fromkeys(cell.options.packages))
            extra.update(cell.options.extra)
        return SetupOptions(
            packages=tuple(packages),
            auto_packages=any(c.options.auto_packages for c in self.setup_cells.values()),
            extra=extra,
            inline_runtime=any(c.options.inline_runtime for c in self.setup_cells.values()),
        )

    def setup_where(self, line: int | None) -> tuple[str, int | None]:
        """(the cell's label, the user's line in it) for line `line` of `setup`, as messages name them.

        The magic line is line 1 of a cell. With several setup cells the label says which one,
        counted in notebook order: "%%pipeline setup cell 2".
        """
        cells = [cell.source for cell in self.setup_cells.values() if cell.source]
        label = "%%pipeline setup"
        if line is None or not cells:
            return label, line
        start = 1
        for number, source in enumerate(cells, 1):
            size = source.count("\n") + 1  # its lines and the blank line that joins the next cell
            if line < start + size or number == len(cells):
                where = f"{label} cell {number}" if len(cells) > 1 else label
                return where, line - start + 2
            start += size
        return label, line

    @property
    def params_source(self) -> str:
        return "\n".join(source for source in self.params_cells.values() if source)

    def define_step(self, step: StepDef, cell: str | None = None) -> None:
        """Add a step, or replace the earlier definition of a step of the same name (keeping its place).

        With a cell key: if that cell defined a step under another name before, the new definition
        replaces that old step (in its place, unless the new name is already another step's).
        """
        old = self.step_cells.get(cell) if cell is not None else None
        if old is not None and old != step.name and old in self.steps:
            if step.name in self.steps:
                del self.steps[old]
                self.steps[step.name] = step
            else:
                self.steps = {
                    (step.name if name == old else name): (step if name == old else defined)
                    for name, defined in self.steps.items()
                }
        else:
            self.steps[step.name] = step
        if cell is not None:
            self.step_cells = {k: n for k, n in self.step_cells.items() if n != step.name}
            self.step_cells[cell] = step.name

    def remove_step(self, name: str) -> None:
        if name not in self.steps:
            raise PipelineError(f"pipeline {self.name!r} has no step {name!r}")
        del self.steps[name]
        self.step_cells = {k: n for k, n in self.step_cells.items() if n != name}

    def set_setup(self, source: str, options: SetupOptions | None = None, cell: str = UNKEYED) -> SetupCell:
        """Define the setup cell `cell` (replacing that cell's earlier code, keeping its place)."""
        defined = SetupCell(normalize_source(source), options or SetupOptions())
        self.setup_cells[cell] = defined
        return defined

    def set_params(self, source: str, cell: str = UNKEYED) -> None:
        """Define the params cell `cell`; the parameters are every params cell's, in notebook order."""
        parse_params(source)  # a bad cell is refused before it replaces anything
        self.params_cells[cell] = normalize_source(source)
        self._merge_params()

    def _merge_params(self) -> None:
        params: dict[str, Param] = {}
        for text in self.params_cells.values():
            params.update(parse_params(text))  # a later cell's default wins, at the name's first place
        self.params = params

    def forget_cell(self, cell: str, *, step: bool = False) -> None:
        """Drop what cell `cell` defined in setup and params, and with `step` its step(s) too (also
        those of further definitions made in the same cell, keyed `cell#2`, ...)."""

        def mine(key: str) -> bool:
            return key == cell or (cell.startswith("id:") and key.startswith(cell + "#"))

        self.setup_cells = {k: c for k, c in self.setup_cells.items() if not mine(k)}
        params_before = len(self.params_cells)
        self.params_cells = {k: p for k, p in self.params_cells.items() if not mine(k)}
        if len(self.params_cells) != params_before:
            self._merge_params()
        if step:
            for key, name in list(self.step_cells.items()):
                if mine(key):
                    self.steps.pop(name, None)
                    del self.step_cells[key]

    def __iter__(self) -> Iterator[StepDef]:
        return iter(self.steps.values())

"""The step runtime pasted into one compiled step (`--inline-runtime`): only the functions it uses.

The modules of `jupyter_mlops/step_runtime/` are read once, as text. For a step, the compiler sets
their switches (`_MLOPS_LOAD`, `_MLOPS_SAVE_GROUPS`, ... see step_runtime/run.py) from what the step reads
and writes, leaves out the code a switch turns off, and keeps the functions `_mlops_run_step` still
reaches. Each kept function goes to the top level of the step's module (kfp's `additional_funcs`), its
module imports moved into its body, the `_MLOPS_*` constants written in where they are read, without
docstrings and annotations, indented one space a level: the demo's steps carry 8-13 KB of runtime
each, where every step carried all 30 KB of it.

At the top level a function resolves names in the module, where no argument of the component function
(a user's variable) can reach. Only the component function's own name (the step's) lives there too: a
step called like a builtin the runtime uses (`open`, `eval`, ...) gets `from builtins import NAME` in the
functions that call it.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..analysis.value_kinds import ARTIFACT

if TYPE_CHECKING:
    from .plan import PipelinePlan, StepPlan

_FOLDER = Path(__file__).parent.parent / "step_runtime"
_FILES = (
    "values.py",
    "groups.py",
    "tensorboard.py",
    "figures.py",
    "previews.py",
    "run.py",
)
ENTRY = "_mlops_run_step"
# Modules known to make no pandas frame. Any other module outside the standard library may return one
# without the notebook naming pandas (sklearn, seaborn, ...): a pipeline importing one keeps the parquet
# code. Left out wrongly, a frame would still come back exactly, pickled instead of as parquet.
_NO_FRAMES = frozenset({"numpy", "jupyter_mlops", "__future__"})


@dataclass(frozen=True)
class _Runtime:
    functions: dict[str, str]  # name -> the source of its def, in file order
    switched: dict[str, frozenset[str]]  # name -> the switches its code reads
    imports: dict[str, ast.Import]  # bound name -> the `import` statement binding it
    constants: dict[str, ast.expr]  # _MLOPS_* name -> its value (a literal, or a function's name)
    switches: frozenset[str]  # the constants that are True: the parts a step may leave out


@functools.lru_cache(maxsize=1)
def _runtime() -> _Runtime:
    functions: dict[str, str] = {}
    switched: dict[str, frozenset[str]] = {}
    imports: dict[str, ast.Import] = {}
    constants: dict[str, ast.expr] = {}
    for file in _FILES:
        text = (_FOLDER / file).read_text(encoding="utf-8")
        for node in ast.parse(text, file).body:
            if isinstance(node, ast.FunctionDef):
                functions[node.name] = ast.get_source_segment(text, node) or ""
                switched[node.name] = frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    imports[alias.asname or alias.name] = ast.Import(names=[alias])
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if not isinstance(target, ast.Name) or not isinstance(node.value, (ast.Constant, ast.Name)):
                    raise AssertionError(
                        f"{file}: line {node.lineno}: a constant must be a literal or a name"
                    )
                constants[target.id] = node.value
            elif not isinstance(node, ast.ImportFrom):  # typing names (annotations are dropped), ours
                raise AssertionError(f"{file}: line {node.lineno}: no module-level code in the step runtime")
    switches = frozenset(n for n, v in constants.items() if isinstance(v, ast.Constant) and v.value is True)
    switched = {name: names & switches for name, names in switched.items()}
    return _Runtime(functions, switched, imports, constants, switches)


def step_switches(plan: PipelinePlan, step: StepPlan) -> frozenset[str]:
    """The runtime's switches this step turns on (each guards code it needs)."""
    grouped = {var for group in step.groups for var in group}
    artifact_inputs = [(v, p) for v, (p, kind) in step.inputs.items() if kind == ARTIFACT]
    on = {
        "_MLOPS_LOAD": bool(artifact_inputs),
        "_MLOPS_LOAD_GROUPS": any(
            any(var in group for group in plan.step(producer).groups) for var, producer in artifact_inputs
        ),
        "_MLOPS_SAVE": any(k == ARTIFACT and v not in grouped for v, k in step.outputs.items()),
        "_MLOPS_SAVE_GROUPS": bool(step.groups),
        "_MLOPS_RESULT": step.result,
        "_MLOPS_PARAMS_OUT": any(k != ARTIFACT for k in step.outputs.values()),
        "_MLOPS_LIKE": any(plan.params[p].type in ("list", "dict") for p in step.params),
        "_MLOPS_SHIM": step.uses_metrics
        or step.uses_logdir
        or any(
            re.search(r"log_metric|log_embedding|logdir|mlops", text) for text in (plan.setup, step.source)
        ),
        "_MLOPS_FIGURES": step.shows_figures,
        "_MLOPS_TEXT_PROGRESS": step.text_progress,
        "_MLOPS_PANDAS": _may_make_frames(plan),
    }
    return frozenset(name for name, used in on.items() if used)


def _may_make_frames(plan: PipelinePlan) -> bool:
    """Whether a pandas frame may be among the pipeline's values (then every step keeps the parquet code).

    Asked for every step, answered once per pipeline: it parses every cell."""
    packages = tuple(p for step in plan.steps for p in step.packages)
    return _frames_possible(packages, (plan.setup, *(s.source for s in plan.steps)))


@functools.lru_cache(maxsize=8)
def _frames_possible(packages: tuple[str, ...], sources: tuple[str, ...]) -> bool:
    if any(re.search(r"pandas|pyarrow", p, re.I) for p in packages):
        return True
    for source in sources:
        if "pandas" in source:
            return True
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return True
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            if any(
                n.split(".")[0] not in sys.stdlib_module_names and n.split(".")[0] not in _NO_FRAMES
                for n in names
            ):
                return True
    return False


@functools.lru_cache(maxsize=256)
def runtime_source(
    on: frozenset[str], entry: str = ENTRY, step_name: str = ""
) -> tuple[str, tuple[str, ...]]:
    """(the module source of the functions a step with switches `on` uses, their names in order).

    `entry` names `_mlops_run_step` (the component function calls it by that name); `step_name` is the
    component function's, bound in the same module (see the module's docstring).
    """
    runtime = _runtime()
    pruned = {name: _function(name, on & runtime.switched[name]) for name in runtime.functions}
    kept = {ENTRY}
    pending = [ENTRY]
    while pending:
        for called in pruned[pending.pop()][1] & set(pruned) - kept:
            kept.add(called)
            pending.append(called)
    parts: list[str] = []
    order = [n for n in runtime.functions if n in kept]
    for name in order:
        text, used = pruned[name]
        head = [ast.unparse(runtime.imports[m]) for m in sorted(used & set(runtime.imports))]
        if step_name in used and hasattr(builtins, step_name):
            head.append(f"from builtins import {step_name}")
        define, _, body = text.partition("\n")
        if name == ENTRY:
            define = define.replace(f"def {ENTRY}(", f"def {entry}(", 1)
        parts.append("\n".join([define, *(" " + line for line in head), body]))
    names = tuple(entry if n == ENTRY else n for n in order)
    return "\n\n\n".join(parts) + "\n", names


@functools.lru_cache(maxsize=512)
def _function(name: str, on: frozenset[str]) -> tuple[str, frozenset[str]]:
    """(the source of function `name` with the switches it reads set, True for those in `on`; the
    names it uses), specialized once per set."""
    runtime = _runtime()
    values = dict(runtime.constants)
    for switch in runtime.switches:
        values[switch] = ast.Constant(switch in on)
    tree = _Specialize(values).visit(ast.parse(runtime.functions[name]).body[0])
    assert isinstance(tree, ast.FunctionDef)
    used = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
    return _one_space(ast.unparse(ast.fix_missing_locations(tree))), used


def _one_space(source: str) -> str:
    """Indent by one space a level instead of four: Python reads it alike, and each line of every step
    is shorter by three spaces a level (a tenth of a compiled demo). `ast.unparse` writes one
    statement a line and every string on one line, so a line's leading spaces are all indentation."""
    lines = []
    for line in source.split("\n"):
        text = line.lstrip(" ")
        lines.append(" " * ((len(line) - len(text)) // 4) + text)
    return "\n".join(lines)


def _truth(node: ast.expr) -> bool | None:
    """The value of a test made of switches, if known."""
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _truth(node.operand)
        return None if inner is None else not inner
    return None


class _Specialize(ast.NodeTransformer):
    """Constants written in, switched-off code left out, docstrings and annotations dropped."""

    def __init__(self, values: dict[str, ast.expr]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            return ast.copy_location(copy.deepcopy(self.values[node.id]), node)
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        self.generic_visit(node)
        # Only tests use switches: `True and x` becomes `x`, `False and x` False (`or` alike).
        stop = isinstance(node.op, ast.Or)  # the value that decides an `or` (True) or an `and` (False)
        rest: list[ast.expr] = []
        for value in node.values:
            known = _truth(value)
            if known is stop:
                if not rest:
                    return ast.copy_location(ast.Constant(stop), node)
                rest.append(value)
                break
            if known is None:
                rest.append(value)
        return self._joined(node, rest) if rest else ast.copy_location(ast.Constant(not stop), node)

    @staticmethod
    def _joined(node: ast.BoolOp, values: list[ast.expr]) -> ast.expr:
        return values[0] if len(values) == 1 else ast.copy_location(ast.BoolOp(node.op, values), node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        known = _truth(node)
        return node if known is None else ast.copy_location(ast.Constant(known), node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        self.generic_visit(node)
        known = _truth(node.test)
        return node if known is None else (node.body if known else node.orelse)

    def visit_If(self, node: ast.If) -> ast.stmt | list[ast.stmt]:
        self.generic_visit(node)
        known = _truth(node.test)
        if known is None:
            return node
        return node.body if known else node.orelse

    def visit_Try(self, node: ast.Try) -> ast.stmt | list[ast.stmt]:
        self.generic_visit(node)
        idle = all(isinstance(n, ast.Pass) for n in node.finalbody)
        return node.body if idle and not node.handlers and not node.orelse else node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        body = getattr(node, "body", None)
        if isinstance(body, list) and not body:  # all of it switched off
            body.append(ast.Pass())
        return node

    def _function(self, node: ast.FunctionDef | ast.ClassDef) -> ast.stmt:
        body = node.body
        first = body[0].value if body and isinstance(body[0], ast.Expr) else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):  # a docstring
            node.body = body[1:]
        self.generic_visit(node)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.stmt:
        node.returns = None
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            arg.annotation = None
        for extra in (node.args.vararg, node.args.kwarg):
            if extra is not None:
                extra.annotation = None
        return self._function(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.stmt:
        return self._function(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt | None:
        if node.value is None:
            return None
        return ast.copy_location(ast.Assign([node.target], self.visit(node.value)), node)

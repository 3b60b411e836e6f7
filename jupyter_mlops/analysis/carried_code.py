"""Functions and classes a step uses from an earlier step travel with it, as code.

In the notebook a cell can call a function an earlier cell defined, or use an object of a class an
earlier cell defined: the kernel keeps the code. A step runs in its own process, and data crosses
steps as stored values, never code. So a step that uses such a definition gets its text, run after
the setup code and before its inputs load (an instance's class must exist to be loaded), under the
defining cell's name and lines (a traceback inside it points there).

What is carried: a top-level `def` or `class` statement of a step (decorators included), when every
binding of the name in that cell is such a statement (the last one is the one carried, as the kernel
keeps the last); and a class made by a factory call at the top level, `Point = namedtuple("Point", "x
y")`, `Row = make_dataclass(...)`, `Color = Enum("Color", "RED GREEN")` (step_local_values.py's
CLASS_FACTORIES), when every binding of the name is such a statement. A definition's own needs (the
module-level names its body, decorators, defaults, bases read) are resolved where it runs, as Python
resolves them when it is called: other carried definitions, imports, data inputs of the using step
(`maybe_reads`: an input if an earlier step provides them, never an error, since the using step may bind
them itself).

Which step uses which definition is decided in two places:
- before the data flow is inferred (`extra_reads`): the names a step reads that an earlier step
  defines, the class of an earlier step's `x = Class(...)` value the step reads, and, repeatedly,
  the needs of those definitions, are added to the step's reads, so the inference finds where each
  comes from (a definition, an import, or a value);
- after it (the planner): the inputs that are definitions become carried code instead of data.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .cell import CellAnalysis
from .flow import analyze_names
from .step_local_values import factory_class, factory_classes, step_local_value
from .value_kinds import _module_level, bindings

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Definition:
    """A top-level def or class of a step that a later step may carry."""

    origin: str  # the step whose cell defines it
    name: str
    kind: str  # "def" or "class"
    start: int  # its first line in the origin's analysed source (a decorator's, if any)
    end: int  # its last line there
    needs: frozenset[str]  # module-level names it reads, when defined or when called

    def text(self, analysis: CellAnalysis) -> tuple[str, tuple[int, ...]]:
        """Its source lines, and the user's line of each."""
        lines = analysis.source.splitlines()[self.start - 1 : self.end]
        return "".join(line + "\n" for line in lines), tuple(
            analysis.user_line(n) for n in range(self.start, self.end + 1)
        )


def definitions_in(step: str, analysis: CellAnalysis) -> dict[str, Definition]:
    """The definitions a later step may carry from this step's cell, by name."""
    tree = analysis.syntax_tree()
    found: dict[str, Definition] = {}
    made = [node for node in tree.body if factory_class(node) is not None]
    if not made and not any(isinstance(node, DEFINITIONS) for node in tree.body):
        return found
    how = bindings(tree)
    factories = factory_classes(tree, how) if made else set()
    for node in made:
        name = factory_class(node)
        if name in factories:  # the last statement binding it wins, as in the kernel
            flow = analyze_names(ast.Module(body=[node], type_ignores=[]))
            needs = frozenset(flow.reads) | frozenset(flow.maybe_reads)
            if any(how.get(need, {"import"}) - {"import", "def", "class"} for need in needs):
                continue  # made from a value of its cell (`namedtuple("P", fields)`): runs before that loads
            end = node.end_lineno if node.end_lineno is not None else node.lineno
            found[name] = Definition(step, name, "class", node.lineno, end, needs - {name})
    for index, node in enumerate(tree.body):
        if not isinstance(node, DEFINITIONS):
            continue
        kind = "class" if isinstance(node, ast.ClassDef) else "def"
        setters = 0
        if how.get(node.name) == {kind, "assign"}:  # `f.calls = 0` right after `def f`: they travel along
            setters = _attribute_setters(tree, index)
        if how.get(node.name) != {kind} and not setters:
            continue  # also bound otherwise (an assignment, an import, the other kind): not followed
        last = tree.body[index + setters]
        flow = analyze_names(ast.Module(body=tree.body[index : index + setters + 1], type_ignores=[]))
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        end = last.end_lineno if last.end_lineno is not None else last.lineno
        needs = frozenset(flow.reads) | frozenset(flow.maybe_reads)
        found[node.name] = Definition(step, node.name, kind, start, end, needs - {node.name})
    return found


def _attribute_setters(tree: ast.Module, index: int) -> int:
    """How many statements right after the definition `tree.body[index]` only set its attributes
    (`f.calls = 0`, `Model.defaults["lr"] = 0.1`), when those are the only other bindings of its name in
    the cell (else 0: not followed)."""
    name = getattr(tree.body[index], "name", "")

    def sets_attribute(statement: ast.stmt) -> bool:
        targets = statement.targets if isinstance(statement, ast.Assign) else []
        if isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
            targets = [statement.target]
        if not targets:
            return False
        for target in targets:
            if not isinstance(target, (ast.Attribute, ast.Subscript)):
                return False
            while isinstance(target, (ast.Attribute, ast.Subscript)):
                target = target.value
            if not (isinstance(target, ast.Name) and target.id == name):
                return False
        return True

    count = 0
    while index + count + 1 < len(tree.body) and sets_attribute(tree.body[index + count + 1]):
        count += 1
    others = sum(
        1
        for statement in _module_level(tree)
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign))
        and any(
            isinstance(n, ast.Name) and n.id == name
            for t in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
            for n in ast.walk(t)
        )
    )
    return count if others == count else 0


def import_lines(analysis: CellAnalysis) -> dict[str, int]:
    """The user's line of the top-level import that binds each name the cell imports."""
    lines: dict[str, int] = {}
    for node in analysis.syntax_tree().body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                lines[bound] = analysis.user_line(node.lineno)
    return lines


def extra_reads(
    steps: Sequence[tuple[str, CellAnalysis]], definitions: Mapping[str, Mapping[str, Definition]]
) -> dict[str, tuple[frozenset[str], int]]:
    """Per step, the names it needs because of the earlier steps' definitions it uses (and the
    definitions themselves, for an instance's class), beyond what it reads itself; and the user's
    line where it first uses one of those definitions."""
    latest: dict[str, Definition] = {}  # name -> the definition an earlier step left bound to it
    binder: dict[str, str] = {}  # name -> the latest earlier step binding it
    trees: dict[str, ast.Module] = {}
    extra: dict[str, tuple[frozenset[str], int]] = {}
    for step, analysis in steps:
        used = [n for n in sorted(analysis.all_reads) if n in latest]
        wanted = [latest[n] for n in used]
        for name in sorted(analysis.all_reads - latest.keys()):
            producer = binder.get(name)
            if producer is None:
                continue
            made = step_local_value(trees[producer], name)
            if made is not None and made[0] == "instance" and made[1] in definitions[producer]:
                wanted.append(definitions[producer][made[1]])
                used.append(name)
        needed: set[str] = set()
        seen: set[str] = set()
        while wanted:
            definition = wanted.pop()
            if definition.name in seen:
                continue
            seen.add(definition.name)
            needed.add(definition.name)
            for name in definition.needs:
                needed.add(name)
                if name in latest and name not in seen:
                    wanted.append(latest[name])
        line = min((analysis.read_lines.get(n, 2) for n in used), default=2)
        extra[step] = (frozenset(needed - analysis.all_reads), line)
        trees[step] = analysis.syntax_tree()
        own = definitions.get(step, {})
        for name in analysis.binds | analysis.deletes:
            binder[name] = step
            if name in own:
                latest[name] = own[name]
            else:
                latest.pop(name, None)
    return extra


def with_reads(analysis: CellAnalysis, names: frozenset[str], line: int) -> CellAnalysis:
    """`analysis` also needing `names`, if an earlier step provides them (`maybe_reads`)."""
    if not names:
        return analysis
    lines = {**{n: line for n in names}, **analysis.read_lines}
    return replace(analysis, maybe_reads=analysis.maybe_reads | names, read_lines=lines)

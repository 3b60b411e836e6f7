"""Which module-level names a cell reads, binds, mutates and deletes, found by walking its AST.

The walk follows Python's scoping rules (see `name_scopes`) and, along the cell's top-level flow,
tracks which names are bound for sure and which only maybe: bound in one branch of an `if`, in a
loop body (which may run zero times), in a `try` body (which may stop at any line), in a `match`
case. `name_reads` explains hard and soft reads.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from jupyter_mlops.analysis.changes import NAME, FunctionSummary
from jupyter_mlops.analysis.reads import ExpressionWalker
from jupyter_mlops.analysis.scopes import FUNCTIONS, Scope, function_scope, interrupted, join


@dataclass
class NameFlow:
    """What one cell does with module-level names. Lines are lines of the walked source."""

    reads: dict[str, int]  # needed from outside for sure -> first line read
    maybe_reads: dict[str, int]  # needed from outside on some paths only -> first line read
    binds: set[str]
    maybe_binds: set[str]  # bound, yet not surely bound (nor surely deleted) at the cell's end
    mutates: set[str]
    deletes: set[str]  # surely unbound at the cell's end by `del` (or an `except ... as` name)
    imports: dict[str, str]
    imported_modules: set[str]
    top_level_await: bool
    # Of `mutates`: those the analysis cannot be sure about -> (line, why it may change).
    unsure_changes: dict[str, tuple[int, str]]
    import_paths: dict[str, str]  # top-level import binds -> dotted path (`plt` -> matplotlib.pyplot)
    definitions: set[str]  # top-level names bound by def or class, or to a class a factory makes


def analyze_names(
    tree: ast.Module,
    *,
    lazy_annotations: bool = False,
    outside_code: Mapping[str, str] | None = None,
    summaries: Mapping[str, FunctionSummary] | None = None,
) -> NameFlow:
    """Walk a parsed cell; `lazy_annotations` if it has `from __future__ import annotations`.

    `outside_code`: names other cells bind to imports (-> dotted path) or defs and classes (-> '').
    `summaries`: what calls of known functions (the cell's, the setup cell's) may change.
    """
    walker = CellWalker(lazy_annotations, outside_code or {}, summaries or {})
    walker.stmts(tree.body, walker.module)
    flow = walker.result()
    if any(isinstance(node, ast.Assign) for node in tree.body):
        from .step_local_values import factory_classes  # (it imports value_kinds, which is light)

        flow.definitions |= factory_classes(tree)  # `Point = namedtuple(...)`: a class, code
    return flow


class CellWalker(ExpressionWalker):
    def __init__(
        self,
        lazy_annotations: bool,
        outside_code: Mapping[str, str],
        summaries: Mapping[str, FunctionSummary],
    ) -> None:
        super().__init__(lazy_annotations, outside_code, summaries)
        self.imports: dict[str, str] = {}
        self.imported_modules: set[str] = set()
        self.definitions: set[str] = set()

    def result(self) -> NameFlow:
        flow = self.module_flow
        for name, line, soft in self.later:
            if name in self.code_names and name in flow.definite:
                # A function using a helper the cell defines further down: functions are called
                # once the cell's definitions ran, so this is the cell's own helper, not an input.
                continue
            target = self.maybe_reads if soft or name in self.binds else self.reads
            target.setdefault(name, line)
        return NameFlow(
            reads=dict(self.reads),
            maybe_reads={n: line for n, line in self.maybe_reads.items() if n not in self.reads},
            binds=set(self.binds),
            maybe_binds=self.binds - flow.definite - flow.deleted,
            mutates=set(self.mutates),
            deletes=set(flow.deleted),
            imports=dict(self.imports),
            imported_modules=set(self.imported_modules),
            top_level_await=self.top_level_await,
            unsure_changes={n: why for n, why in self.unsure.items() if n not in self.surely_changed},
            import_paths=dict(self.import_paths),
            definitions=set(self.definitions),
        )

    def stmts(self, body: list[ast.stmt], scope: Scope) -> None:
        for node in body:
            self.stmt(node, scope)

    def stmt(self, node: ast.stmt, scope: Scope) -> None:
        if isinstance(node, FUNCTIONS):
            self.function_def(node, scope)
        elif isinstance(node, ast.ClassDef):
            self.class_def(node, scope)
        elif isinstance(node, ast.Assign):
            self.expr(node.value, scope)
            same, items = self.value(node.value, scope)
            for target in node.targets:
                self.store(target, scope)
                self.alias(target, same, items, scope)
        elif isinstance(node, ast.AugAssign):
            self.aug_assign(node, scope)
        elif isinstance(node, ast.AnnAssign):
            self.ann_assign(node, scope)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self.delete(target, scope)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            if isinstance(node, ast.AsyncFor) and not scope.in_function():
                self.top_level_await = True
            self.expr(node.iter, scope)
            same, items = self.value(node.iter, scope)  # `for d in [df]`: d may be df

            def head(target: ast.expr = node.target) -> None:
                self.store(target, scope)
                self.alias(target, same, items, scope, element=True)

            self.loop(node, scope, head)
        elif isinstance(node, ast.While):
            self.expr(node.test, scope)  # the first test runs before any round
            self.loop(node, scope, lambda: self.expr(node.test, scope))
        elif isinstance(node, ast.If):
            self.expr(node.test, scope)
            self.branches(scope, lambda: self.stmts(node.body, scope), lambda: self.stmts(node.orelse, scope))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            if isinstance(node, ast.AsyncWith) and not scope.in_function():
                self.top_level_await = True
            for item in node.items:
                self.expr(item.context_expr, scope)
                if item.optional_vars is not None:
                    self.store(item.optional_vars, scope)
                    # `with wrap(df) as h`: h is what __enter__ returns, maybe anything it holds.
                    self.alias_value(item.optional_vars, item.context_expr, scope, element=True)
            self.stmts(node.body, scope)
        elif isinstance(node, ast.Match):
            self.match(node, scope)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":  # same fields
            self.try_(cast(ast.Try, node), scope)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.import_(node, scope)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            pass  # already in the scope's symbols
        else:  # Expr, Return, Raise, Assert, Pass, Break, Continue and statements of later Pythons
            for child in ast.iter_child_nodes(node):
                self.expr(child, scope)

    # -- definitions ------------------------------------------------------------------------------

    def function_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator, scope)
        self.arguments(node.args, scope, annotations=True)
        if not self.lazy_annotations:
            self.expr(node.returns, scope)
        self.defining.append(node.name)
        self.stmts(node.body, function_scope(scope, node.body, node.args))
        self.defining.pop()
        self.bind(node.name, scope)
        if scope.kind == "module":
            self.code_names.add(node.name)
            self.definitions.add(node.name)

    def class_def(self, node: ast.ClassDef, scope: Scope) -> None:
        for part in [*node.decorator_list, *node.bases, *node.keywords]:
            self.expr(part, scope)
        self.defining.append(node.name)
        self.stmts(node.body, function_scope(scope, node.body, None, kind="class"))
        self.defining.pop()
        self.bind(node.name, scope)
        if scope.kind == "module":
            self.code_names.add(node.name)
            self.definitions.add(node.name)

    def import_(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        relative = isinstance(node, ast.ImportFrom) and (node.level > 0 or node.module is None)
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            module = node.module if isinstance(node, ast.ImportFrom) else alias.name
            top = (module or "").split(".")[0]
            self.bind(name, scope)
            if scope.kind == "module":
                self.code_names.add(name)
                if alias.name != "*":
                    imported = f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) else None
                    path = imported or (alias.name if alias.asname else name)
                    if not relative:
                        self.import_paths[name] = path
            if relative or top == "__future__":
                continue
            self.imported_modules.add(top)
            if scope.kind == "module":
                self.imports[name] = top

    # -- assignments -------------------------------------------------------------------------------

    def aug_assign(self, node: ast.AugAssign, scope: Scope) -> None:
        if isinstance(node.target, ast.Name):  # `x += 1` reads x, then binds it
            self.load(node.target.id, scope, node.target.lineno)
            self.expr(node.value, scope)
            # `d += [1]` changes a list or an array in place: what `d` may refer to (d is rebound).
            others = self.roots(node.target, scope) - {node.target.id}
            self.changed(others, node.lineno, f"`{NAME}` may be changed through `{node.target.id}` (+=)")
            self.alias(node.target, set(), self.reach(node.value, scope), scope)  # `d += [df]`
            self.bind(node.target.id, scope)
        else:
            self.store(node.target, scope)
            self.expr(node.value, scope)

    def ann_assign(self, node: ast.AnnAssign, scope: Scope) -> None:
        # Annotations run in module and class bodies (Python < 3.14, no `from __future__ import
        # annotations`), never for a function's local variables.
        if node.value is not None:
            self.expr(node.value, scope)
            self.store(node.target, scope)
        elif not isinstance(node.target, ast.Name):  # `x.a: int` evaluates `x` and assigns nothing
            self.expr(node.target.value, scope)
            if isinstance(node.target, ast.Subscript):
                self.expr(node.target.slice, scope)
        # `x: int` alone binds nothing (in a function it only makes x local).
        if not self.lazy_annotations and not scope.in_function():
            self.expr(node.annotation, scope)

    def delete(self, target: ast.AST, scope: Scope) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.delete(element, scope)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            self.mutate(target, scope)
        elif isinstance(target, ast.Name):
            if scope.kind in ("module", "class"):
                assert scope.flow is not None
                if target.id not in scope.flow.definite:  # `del x` needs an x to delete
                    self.load(target.id, scope, target.lineno)
                scope.flow.unbind(target.id)
            elif target.id in scope.global_names:
                self.load(target.id, scope, target.lineno)

    # -- control flow -------------------------------------------------------------------------------

    def loop(self, node: ast.For | ast.AsyncFor | ast.While, scope: Scope, head: Callable[[], None]) -> None:
        """A loop body runs zero or more times; its second round sees what the first one bound."""

        def one_round() -> None:
            head()
            self.stmts(node.body, scope)

        before = self.snapshot(scope)
        if before is not None:  # learn what a round binds, silently, then walk it for real
            recording, self.recording = self.recording, False
            one_round()
            self.recording = recording
            # A round may also end early, at a `continue`.
            self.restore(scope, interrupted(join(before, self.snapshot(scope)), node.body))
        loop_head = self.snapshot(scope)
        one_round()
        after = interrupted(join(loop_head, self.snapshot(scope)), node.body)  # or at a `break`
        self.restore(scope, after)
        if node.orelse:
            self.stmts(node.orelse, scope)
            if _breaks(node.body):
                self.restore(scope, join(after, self.snapshot(scope)))

    def try_(self, node: ast.Try, scope: Scope) -> None:
        """A `try` body may stop at any line: handlers start from what was bound before it."""
        body, handlers, orelse, finalbody = node.body, node.handlers, node.orelse, node.finalbody
        before = self.snapshot(scope)
        self.stmts(body, scope)
        body_end = self.snapshot(scope)
        handler_start = interrupted(join(before, body_end), body)
        self.stmts(orelse, scope)
        ends = [self.snapshot(scope)]
        for handler in handlers:
            self.restore(scope, handler_start)
            self.expr(handler.type, scope)
            if handler.name:
                self.bind(handler.name, scope)
            self.stmts(handler.body, scope)
            if handler.name and scope.flow is not None:  # Python deletes it when the handler ends
                scope.flow.unbind(handler.name)
            ends.append(self.snapshot(scope))
        after = join(*ends)
        if finalbody:
            # Its reads are judged on every path (also the one an exception takes); what it binds
            # only matters on the normal path.
            self.restore(scope, join(after, handler_start))
            self.stmts(finalbody, scope)
            recording, self.recording = self.recording, False
            self.restore(scope, after)
            self.stmts(finalbody, scope)
            self.recording = recording
        else:
            self.restore(scope, after)

    def match(self, node: ast.Match, scope: Scope) -> None:
        self.expr(node.subject, scope)
        same, items = self.value(node.subject, scope)  # `case [first, *_]:` first may be an item
        before = self.snapshot(scope)
        ends = []
        exhaustive = False
        for case in node.cases:
            self.restore(scope, before)
            self.pattern(case.pattern, scope)
            for capture in ast.walk(case.pattern):
                name = getattr(capture, "name", None) or getattr(capture, "rest", None)
                if isinstance(name, str):
                    self.alias(ast.Name(id=name, ctx=ast.Store()), same, items, scope, element=True)
            self.expr(case.guard, scope)
            self.stmts(case.body, scope)
            ends.append(self.snapshot(scope))
            exhaustive = exhaustive or (case.guard is None and _irrefutable(case.pattern))
        self.restore(scope, join(*ends, None if exhaustive else before))

    def pattern(self, node: ast.pattern, scope: Scope) -> None:
        """Values, classes and mapping keys in a pattern are read; capture names are bound."""
        if isinstance(node, ast.MatchValue):
            self.expr(node.value, scope)
        elif isinstance(node, ast.MatchClass):
            self.expr(node.cls, scope)
        elif isinstance(node, ast.MatchMapping):
            for key in node.keys:
                self.expr(key, scope)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.pattern):
                self.pattern(child, scope)
        if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            self.bind(node.name, scope)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            self.bind(node.rest, scope)


def _irrefutable(pattern: ast.pattern) -> bool:
    if isinstance(pattern, ast.MatchAs):
        return pattern.pattern is None or _irrefutable(pattern.pattern)
    if isinstance(pattern, ast.MatchOr):
        return any(_irrefutable(p) for p in pattern.patterns)
    return False


def _breaks(body: list[ast.stmt]) -> bool:
    """True if the loop with this body can `break` (a break of a nested loop does not count)."""
    for node in body:
        if isinstance(node, ast.Break):
            return True
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While, *FUNCTIONS, ast.ClassDef)):
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt) and _breaks([child]):
                return True
            if isinstance(child, (ast.ExceptHandler, ast.match_case)) and _breaks(child.body):
                return True
    return False

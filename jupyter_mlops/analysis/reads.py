"""The expression half of a cell's name analysis: resolving names through scopes, recording reads.

A read is *hard* (`reads`) when the cell surely needs the name from outside: nothing in the cell
bound it yet. It is *soft* (`maybe_reads`) when the cell may or may not have bound it by then
(after an `if` that binds in one branch, in a loop's second round, inside a function whose name the
cell binds somewhere): an earlier step's value is passed in if there is one, and nothing is an
error. Code inside functions, lambdas and generator expressions may run later than it is written:
a name it reads that is bound where it is written is fine (a function being defined counts as
bound, so a recursive function does not read its own name); one the cell binds only later, or
only maybe, is a soft read; except a function, class or import the cell surely defines further
down (helpers in any order): that is taken to be the cell's own, as the cell's functions are
normally called after all its definitions ran.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from jupyter_mlops.analysis.changes import ChangeTracking, FunctionSummary
from jupyter_mlops.analysis.scopes import COMPREHENSIONS, Flow, Scope, function_scope, join, target_names


class ExpressionWalker(ChangeTracking):
    """Walks expressions and assignment targets; `name_flow.CellWalker` adds the statements."""

    def __init__(
        self,
        lazy_annotations: bool,
        outside_code: Mapping[str, str],
        summaries: Mapping[str, FunctionSummary],
    ) -> None:
        super().__init__(outside_code, summaries)
        self.lazy_annotations = lazy_annotations  # `from __future__ import annotations`
        self.module = Scope("module", None, flow=Flow())
        self.recording = True  # False while a loop body is walked once to learn what it binds
        self.reads: dict[str, int] = {}
        self.maybe_reads: dict[str, int] = {}
        self.binds: set[str] = set()
        self.mutates: set[str] = set()
        self.top_level_await = False
        self.defining: list[str] = []  # module-level functions and classes being defined
        self.later: list[tuple[str, int, bool]] = []  # deferred reads of names not bound yet

    @property
    def module_flow(self) -> Flow:
        assert self.module.flow is not None
        return self.module.flow

    # -- names ---------------------------------------------------------------------------------

    def load(self, name: str, scope: Scope, line: int) -> bool:
        """Record a read of `name` in `scope`; True if it resolves to a module-level name."""
        soft = False
        current: Scope | None = scope
        while current is not None and current.kind != "module":
            if name in current.global_names and (current is scope or current.kind != "class"):
                break
            if current.kind == "class":
                if current is scope and current.flow is not None:
                    if name in current.flow.definite:
                        return False
                    soft = soft or name in current.flow.maybe
                # Otherwise skip it: a class body does not enclose the scopes inside it.
            elif name in current.local_names or name in current.nonlocal_names:
                return False
            current = current.parent
        if not self.recording:
            return True
        flow = self.module_flow
        if scope.runs_later():
            if name not in flow.definite and name not in self.defining:
                self.later.append((name, line, soft or name in flow.maybe))
            return True
        if name not in flow.definite:
            target = self.maybe_reads if soft or name in flow.maybe else self.reads
            target.setdefault(name, line)
        return True

    def bind(self, name: str, scope: Scope) -> None:
        if scope.kind in ("function", "comprehension") and name not in scope.global_names:
            return  # a local: function locals are known before the walk
        if scope.kind == "class" and name not in scope.global_names:
            assert scope.flow is not None
            scope.flow.bind(name)
            return
        self.binds.add(name)
        if scope.kind == "module":
            self.module_flow.bind(name)
        else:  # `global name` in a function: bound when the function is called, if ever
            self.module_flow.maybe_bind(name)

    def walrus_bind(self, name: str, scope: Scope) -> None:
        """PEP 572: in a comprehension, `:=` binds in the scope around the comprehension."""
        target = scope
        while target.kind == "comprehension" and target.parent is not None:
            target = target.parent
        if target.kind == "module" and scope.kind == "comprehension":
            self.binds.add(name)
            self.module_flow.maybe_bind(name)  # the comprehension may not iterate at all
        else:
            self.bind(name, target)

    def snapshot(self, scope: Scope) -> Flow | None:
        return scope.flow.copy() if scope.flow is not None else None

    def restore(self, scope: Scope, flow: Flow | None) -> None:
        if scope.flow is not None and flow is not None:
            scope.flow = flow.copy()

    # -- expressions ----------------------------------------------------------------------------

    def expr(self, node: ast.AST | None, scope: Scope) -> None:
        if node is None:
            return
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                self.load(node.id, scope, node.lineno)
            elif isinstance(node.ctx, ast.Store):
                self.bind(node.id, scope)
        elif isinstance(node, ast.NamedExpr):
            self.expr(node.value, scope)
            assert isinstance(node.target, ast.Name)
            self.walrus_bind(node.target.id, scope)
            self.alias_value(node.target, node.value, scope)
        elif isinstance(node, ast.Call):
            for child in ast.iter_child_nodes(node):
                self.expr(child, scope)
            self.call_changes(node, scope)
        elif isinstance(node, ast.Lambda):
            self.arguments(node.args, scope)
            self.expr(node.body, function_scope(scope, [node.body], node.args))
        elif isinstance(node, COMPREHENSIONS):
            self.comprehension(node, scope)
        elif isinstance(node, ast.IfExp):
            self.expr(node.test, scope)
            self.branches(scope, lambda: self.expr(node.body, scope), lambda: self.expr(node.orelse, scope))
        elif isinstance(node, ast.BoolOp):  # `a or (b := 1)`: later operands may not run
            self.expr(node.values[0], scope)
            self.branches(scope, lambda: self.exprs(node.values[1:], scope), None)
        elif isinstance(node, ast.Dict):  # evaluated key, value, key, value...
            for key, value in zip(node.keys, node.values, strict=True):
                self.expr(key, scope)
                self.expr(value, scope)
        else:
            if isinstance(node, ast.Await) and not scope.in_function():
                self.top_level_await = True
            for child in ast.iter_child_nodes(node):
                self.expr(child, scope)

    def exprs(self, nodes: list[ast.expr], scope: Scope) -> None:
        for node in nodes:
            self.expr(node, scope)

    def branches(self, scope: Scope, first: object, second: object) -> None:
        """Walk two alternative paths (callables; None for an empty path) and join their flows."""
        before = self.snapshot(scope)
        if callable(first):
            first()
        after_first = self.snapshot(scope)
        self.restore(scope, before)
        if callable(second):
            second()
        self.restore(scope, join(after_first, self.snapshot(scope)))

    def arguments(self, args: ast.arguments, scope: Scope, *, annotations: bool = False) -> None:
        """Defaults (and annotations, unless lazy) run where the function is defined."""
        for default in [*args.defaults, *args.kw_defaults]:
            self.expr(default, scope)
        if annotations and not self.lazy_annotations:
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            for arg in every:
                if arg is not None:
                    self.expr(arg.annotation, scope)

    def comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp, scope: Scope
    ) -> None:
        generators = node.generators
        self.expr(generators[0].iter, scope)  # evaluated in the enclosing scope, right away
        local_names = frozenset(name for g in generators for name in target_names(g.target))
        # A generator expression's body runs when it is consumed, maybe later.
        inner = Scope("comprehension", scope, isinstance(node, ast.GeneratorExp), local_names)
        for index, generator in enumerate(generators):
            if generator.is_async and not scope.in_function():
                self.top_level_await = True
            if index:
                self.expr(generator.iter, inner)
            self.store(generator.target, inner)
            same, items = self.value(generator.iter, inner if index else scope)
            self.alias(generator.target, same, items, inner, element=True)
            for condition in generator.ifs:
                self.expr(condition, inner)
        if isinstance(node, ast.DictComp):
            self.expr(node.key, inner)
            self.expr(node.value, inner)
        else:
            self.expr(node.elt, inner)

    # -- targets --------------------------------------------------------------------------------

    def store(self, target: ast.AST, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, scope)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.store(element, scope)
        elif isinstance(target, ast.Starred):
            self.store(target.value, scope)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            self.mutate(target, scope)
        else:
            self.expr(target, scope)

    def mutate(self, target: ast.Attribute | ast.Subscript, scope: Scope) -> None:
        """`x.a = ...`, `x[i] += ...`, `del x.a.b[c]`: read the root name `x`, record its change
        (and a change of what `x` may refer to, `name_changes`)."""
        node: ast.expr = target
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            if isinstance(node, ast.Subscript):
                self.expr(node.slice, scope)
            node = node.value
        if isinstance(node, ast.Name):
            self.load(node.id, scope, node.lineno)
        else:
            self.expr(node, scope)  # `get(x).a = 1` changes what get(x) may return: x
        # The object changed is the one holding the item or attribute: `x.a` of `x.a.b[c] = 2`.
        self.through(target.value, scope, node.lineno, ast.unparse(target))

"""Changes a step makes to state that later steps cannot see: a module's settings, a class or function of
the notebook.

Each step runs in a new process that starts from the setup cells, and only values cross from step to
step. So `pd.options.display.max_rows = 5`, `plt.rcParams["figure.figsize"] = (10, 4)`,
`pd.set_option(...)`, `warnings.filterwarnings(...)` or `Settings.depth = 7` (a setup cell's class) in
a step hold for that step only, where in the kernel they last from cell to cell. Such a change gets a
note when a later step uses the module or the class; in a setup cell it is simply in every step.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

from .cell import CellAnalysis
from .readonly_calls import READ_ONLY_METHODS
from .tree_nodes import listed, walk

# Calls that change a module's settings (by import path).
CONFIG_CALLS = frozenset(
    {
        "pandas.set_option", "pandas.reset_option", "numpy.set_printoptions", "numpy.seterr",
        "matplotlib.rc", "matplotlib.pyplot.rc", "matplotlib.style.use", "matplotlib.pyplot.style.use",
        "matplotlib.rcParams.update", "matplotlib.pyplot.rcParams.update", "matplotlib.use",
        "matplotlib.pyplot.switch_backend", "seaborn.set", "seaborn.set_theme", "seaborn.set_style",
        "seaborn.set_context", "seaborn.set_palette", "warnings.filterwarnings", "warnings.simplefilter",
        "logging.basicConfig", "torch.set_default_dtype", "torch.set_num_threads",
        "torch.set_printoptions", "tensorflow.config.set_visible_devices",
    }
)  # fmt: skip


def _root(node: ast.expr) -> tuple[str, list[str]] | None:
    """`pd.options.display.max_rows` -> ("pd", ["options", "display", "max_rows"]); a subscript's
    base counts (`plt.rcParams[k]` -> ("plt", ["rcParams"]))."""
    attrs: list[str] = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            attrs.append(node.attr)
        node = node.value
    return (node.id, attrs[::-1]) if isinstance(node, ast.Name) else None


def _outside_methods(tree: ast.Module) -> list[ast.AST]:
    """The nodes of a cell but those in its classes' methods, which change things only when called
    (`class_state_calls` finds those calls), in no particular order."""
    nodes = listed(tree)
    if not any(isinstance(node, ast.ClassDef) for node in nodes):
        return list(nodes)  # (no method: every node; the callers sort what they find)
    found: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.ClassDef) and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            stack.append(child)
    return found


def state_changes(analysis: CellAnalysis, code: Mapping[str, str]) -> list[tuple[int, str, str]]:
    """(user line, the statement or call as written, the module's import path or '' for a class or
    function) of each change the step makes to a module or to the notebook's code. `code`: names the
    cells bind to an import (its path) or a def/class ('')."""
    paths = {**code, **analysis.import_paths}
    own_data = analysis.binds - set(analysis.import_paths) - set(analysis.definitions)
    found: list[tuple[int, str, str]] = []
    for node in _outside_methods(analysis.syntax_tree()):
        if not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Call)):
            continue
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            root = _root(target) if isinstance(target, (ast.Attribute, ast.Subscript)) else None
            if root is None or root[0] not in paths or root[0] in own_data:
                continue
            if not paths[root[0]] and not root[1]:
                continue  # `helpers[0] = ...` on a function or class itself: not an attribute
            found.append((analysis.user_line(node.lineno) or 0, ast.unparse(node), root[0]))
        if isinstance(node, ast.Call):
            root = _root(node.func)
            if root is None or root[0] not in paths or root[0] in own_data:
                continue
            if not paths[root[0]]:  # a class or function of the notebook
                # `Registry.items.append(x)`: a method changing what the class holds (not a call of
                # the class's own methods, `Registry.load(...)`, nor a read-only one)
                if len(root[1]) > 1 and root[1][-1] not in READ_ONLY_METHODS:
                    found.append((analysis.user_line(node.lineno) or 0, ast.unparse(node), root[0]))
                continue
            if ".".join([paths[root[0]], *root[1]]) in CONFIG_CALLS:
                found.append((analysis.user_line(node.lineno) or 0, ast.unparse(node), root[0]))
    return sorted(found)


# Changes to the step's whole process: they matter to every later step, whether or not it uses the
# module (a later step opens a relative path, imports a module of `src/`, calls `progress_apply`).
PROCESS_STATE = {
    "os.chdir": "the working directory",
    "sys.path.append": "where imports are found",
    "sys.path.insert": "where imports are found",
    "sys.path.extend": "where imports are found",
    "sys.path": "where imports are found",  # sys.path[0:0] = [...], sys.path += [...]
    "os.environ": "the environment",  # os.environ["X"] = ...
    "os.environ.update": "the environment",
    "os.environ.setdefault": "the environment",
    "os.putenv": "the environment",
    "tqdm.pandas": "pandas (progress_apply)",
    "tqdm.auto.tqdm.pandas": "pandas (progress_apply)",
    "tqdm.tqdm.pandas": "pandas (progress_apply)",
    "sys.setrecursionlimit": "the recursion limit",
}


_PROCESS_MODULES = frozenset(path.split(".")[0] for path in PROCESS_STATE)


def process_changes(analysis: CellAnalysis, code: Mapping[str, str]) -> list[tuple[int, str, str]]:
    """(user line, the statement or call as written, what it changes) of each change the step makes to
    its process's state (PROCESS_STATE); `code` as for `state_changes`."""
    paths = {**code, **analysis.import_paths}
    modules = {paths.get(n, "").split(".")[0] for n in analysis.all_reads | analysis.import_paths.keys()}
    if not modules & _PROCESS_MODULES:
        return []  # (most cells: no walk)
    own_data = analysis.binds - set(analysis.import_paths) - set(analysis.definitions)
    found: list[tuple[int, str, str]] = []
    for node in walk(analysis.syntax_tree()):
        if isinstance(node, ast.Call):
            places = [node.func]
        elif isinstance(node, ast.Assign):
            places = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            places = [node.target]
        else:
            continue
        for place in places:
            root = _root(place) if isinstance(place, (ast.Attribute, ast.Subscript)) else None
            if root is None or root[0] in own_data or not paths.get(root[0]):
                continue
            full = ".".join([paths[root[0]], *root[1]])
            what = PROCESS_STATE.get(full)
            if what is not None:
                found.append((analysis.user_line(node.lineno) or 0, ast.unparse(node), what))
    return sorted(found)


def process_note(statement: str, what: str) -> str:
    if what == "the working directory":
        return (
            f"`{statement}` changes the working directory for this step only: every step starts in the "
            "notebook's folder (in the kernel the change lasts from cell to cell). In later steps, write "
            "paths from the notebook's folder (`data/train.csv`)."
        )
    return (
        f"`{statement}` changes {what} for this step only: later steps run in new processes that start "
        "from the setup cells (in the kernel the change lasts from cell to cell). Put the line in "
        "%%pipeline setup to have it in every step."
    )


def state_note(statement: str, root: str, path: str, *, is_class: bool) -> str:
    if path:
        return (
            f"`{statement}` changes the state of module {path.split('.')[0]} for this step only: later "
            "steps run in new processes that start from the setup cells (in the kernel the change lasts "
            "from cell to cell). Put the line in %%pipeline setup to have it in every step."
        )
    return (
        f"`{statement}` changes {'class' if is_class else 'function'} {root!r} for this step only: later "
        "steps run in new processes and "
        f"get {root!r} as its cell defines it (in the kernel the change lasts from cell to cell). "
        f"Change it in %%pipeline setup, or keep the value in a variable that later steps read."
    )


# A class's own state that its methods may change where a later step misses it: `Counter.total += 1`
# (or `cls.total`, `type(self).total`, `self.__class__.total`) in a method, or `self.seen.append(x)` on a
# list, dict or set that the class body makes and no method replaces per instance (`self.seen = []`).
_CONTAINER_MAKERS = frozenset({"list", "dict", "set", "defaultdict", "Counter", "OrderedDict", "deque"})
_CONTAINERS = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
_INSTANCE_MAKERS = ("__init__", "__new__", "__post_init__")  # run by `Counter(...)`
_CACHES = frozenset({"lru_cache", "cache"})  # decorators whose function keeps what it computed


@dataclass(frozen=True)
class ClassState:
    """A class of the notebook whose methods may change its own (class-level) state."""

    name: str
    changes: dict[str, str]  # method -> the first statement in it that changes the class's state
    members: frozenset[str]  # its methods and class attributes: a later step using one uses the class
    kind: str = "class"  # or "function": a function that changes its own attributes when called


def class_state(tree: ast.Module, wrappers: Mapping[str, str] | None = None) -> dict[str, ClassState]:
    """The top-level classes of a cell whose methods may change the class's own state, and its functions
    that change their own attributes, by name; `wrappers`: the notebook's decorators whose wrappers do
    (`self_changing_wrappers`)."""
    found: dict[str, ClassState] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        methods = [f for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
        made: set[str] = set()  # class attributes holding a container the class body makes
        members = {f.name for f in methods}
        for item in node.body:
            targets = item.targets if isinstance(item, ast.Assign) else []
            if isinstance(item, ast.AnnAssign) and item.value is not None:
                targets = [item.target]
            value = getattr(item, "value", None)
            for target in targets:
                if isinstance(target, ast.Name):
                    members.add(target.id)
                    if _makes_container(value):
                        made.add(target.id)
        per_instance = {  # `self.seen = []` somewhere: each object has its own
            t.attr
            for f in methods
            for n in ast.walk(f)
            if isinstance(n, (ast.Assign, ast.AnnAssign))
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == _first(f)
        }
        changes = {}
        for method in methods:
            statement = _class_change(method, node.name, made - per_instance)
            if statement is not None:
                changes[method.name] = statement
        if changes:
            found[node.name] = ClassState(node.name, changes, frozenset(members))
    found.update(_function_state(tree, wrappers or {}))
    return found


def _own_change(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The first statement of `function` changing an attribute of the function itself (`f.calls += 1`)."""
    for node in ast.walk(function):
        targets: list[ast.expr] = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr not in READ_ONLY_METHODS:
                targets = [func.value]
        for target in targets:
            root = _root(target) if isinstance(target, (ast.Attribute, ast.Subscript)) else None
            if root is not None and root[0] == function.name and root[1]:
                return ast.unparse(node)
    return None


def self_changing_wrappers(tree: ast.Module) -> dict[str, str]:
    """The cell's decorators whose wrappers change themselves (`def counted(fn): def wrapper(...):
    wrapper.n += 1 ...`), each with that statement."""
    wrapping = {}
    for function in tree.body:
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        inner = [n for n in function.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        changed = next((c for c in map(_own_change, inner) if c is not None), None)
        if changed is not None:
            wrapping[function.name] = changed
    return wrapping


def _function_state(tree: ast.Module, wrappers: Mapping[str, str]) -> dict[str, ClassState]:
    """The top-level functions of a cell that change their own attributes when called: `f.calls += 1` in
    `f`, or through a decorator whose wrapper does (`@counted def f(): ...`)."""
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found = {}
    for name, function in functions.items():
        changed = _own_change(function)
        decorators = [d.id for d in function.decorator_list if isinstance(d, ast.Name)]
        changed = changed or next((wrappers[d] for d in decorators if d in wrappers), None)
        for decorator in function.decorator_list:  # `@lru_cache`, `@functools.cache(...)`: its cache
            called = decorator.func if isinstance(decorator, ast.Call) else decorator
            last = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if changed is None and last in _CACHES:
                changed = f"@{ast.unparse(decorator)}"
        if changed is not None:
            found[name] = ClassState(name, {"__call__": changed}, frozenset(), kind="function")
    return found


def _makes_container(value: ast.expr | None) -> bool:
    if isinstance(value, _CONTAINERS):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        called = (
            func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        )
        return called in _CONTAINER_MAKERS
    return False


def _first(method: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    args = [*method.args.posonlyargs, *method.args.args]
    return args[0].arg if args else None


def _class_change(method: ast.FunctionDef | ast.AsyncFunctionDef, cls: str, shared: set[str]) -> str | None:
    """The first statement of `method` that changes class `cls`'s own state, as written; else None."""
    decorators = {d.id for d in method.decorator_list if isinstance(d, ast.Name)}
    first = None if "staticmethod" in decorators else _first(method)
    as_class = "classmethod" in decorators

    def refers_to_class(base: ast.expr) -> bool:
        if isinstance(base, ast.Name):
            return base.id == cls or (as_class and base.id == first)
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "type":
            return len(base.args) == 1 and isinstance(base.args[0], ast.Name) and base.args[0].id == first
        return (
            isinstance(base, ast.Attribute)
            and base.attr == "__class__"
            and isinstance(base.value, ast.Name)
            and base.value.id == first
        )

    def changes(place: ast.expr) -> bool:
        """`place` (a target, or a method call's receiver) is the class's state."""
        chain: list[str] = []
        while isinstance(place, (ast.Attribute, ast.Subscript)):
            if isinstance(place, ast.Attribute) and refers_to_class(place):
                break
            if isinstance(place, ast.Attribute):
                chain.append(place.attr)
            place = place.value
        chain.reverse()
        if refers_to_class(place) and chain:
            return True  # Counter.total = ..., cls.items[k] = ..., type(self).seen.append(...)
        own = isinstance(place, ast.Name) and place.id == first and not as_class
        # self.seen.append(x), self.seen[k] = v: the class's container (not `self.seen = []`)
        return own and bool(chain) and chain[0] in shared

    found: list[ast.stmt] = []
    for statement in ast.walk(method):
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = (
                statement.targets if isinstance(statement, (ast.Assign, ast.Delete)) else [statement.target]
            )
            for target in targets:
                if not isinstance(target, (ast.Attribute, ast.Subscript)):
                    continue
                direct_own = (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == first
                    and not as_class
                )
                if direct_own and not isinstance(statement, ast.AugAssign):
                    continue  # self.x = ...: the object's own attribute
                if changes(target):
                    found.append(statement)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            func = statement.value.func
            if isinstance(func, ast.Attribute) and func.attr not in READ_ONLY_METHODS and changes(func.value):
                found.append(statement)
    if not found:
        return None
    return ast.unparse(min(found, key=lambda s: (s.lineno, s.col_offset)))


def class_state_calls(
    analysis: CellAnalysis, classes: Mapping[str, ClassState]
) -> list[tuple[int, str, str, str]]:
    """(user line, the call as written, class, the method's changing statement) of each call in the step
    that may change the class state of one of `classes`: `c.bump(3)` (any object: its class is not
    known), `Counter.reset()`, `Counter(...)` when its `__init__` changes the class's state."""
    by_method: dict[str, list[ClassState]] = {}
    for state in classes.values():
        for method in state.changes:
            by_method.setdefault(method, []).append(state)
    found: list[tuple[int, str, str, str]] = []
    stack: list[ast.AST] = list(analysis.syntax_tree().body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue  # calls in definitions (methods calling each other, recursion): counted where used
        stack.extend(ast.iter_child_nodes(node))
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        hits: list[tuple[ClassState, str]] = []
        if isinstance(func, ast.Name) and func.id in classes:
            state = classes[func.id]
            hits = [(state, m) for m in (*_INSTANCE_MAKERS, "__call__") if m in state.changes][:1]
        elif isinstance(func, ast.Attribute) and func.attr in by_method:
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            hits = [(s, func.attr) for s in by_method[func.attr] if owner not in classes or owner == s.name]
        for state, method in hits:
            line = analysis.user_line(node.lineno) or 0
            found.append((line, ast.unparse(node), state.name, state.changes[method]))
    return sorted(set(found))


def class_state_note(call: str, cls: str, statement: str, kind: str = "class") -> str:
    keep = (
        "Keep such state on the object (`self.total`, set in `__init__`) or in a variable that later steps "
        "read."
        if kind == "class"
        else "Keep such state in a variable that later steps read (return it from the function)."
    )
    return (
        f"`{call}` may change {kind} {cls!r} itself (`{statement}`) for this step only: later steps run in "
        f"new processes and get {cls!r} as its cell defines it (in the kernel the change lasts from cell to "
        f"cell). {keep}"
    )

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

from .cell import CellAnalysis

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


def state_changes(analysis: CellAnalysis, code: Mapping[str, str]) -> list[tuple[int, str, str]]:
    """(user line, the statement or call as written, the module's import path or '' for a class or
    function) of each change the step makes to a module or to the notebook's code. `code`: names the
    cells bind to an import (its path) or a def/class ('')."""
    paths = {**code, **analysis.import_paths}
    own_data = analysis.binds - set(analysis.import_paths) - set(analysis.definitions)
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(analysis.syntax_tree()):
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
            if root is None or root[0] not in paths or root[0] in own_data or not paths[root[0]]:
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
    for node in ast.walk(analysis.syntax_tree()):
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
        f"get {root!r} as the setup cell defines it (in the kernel the change lasts from cell to cell). "
        f"Change it in %%pipeline setup, or keep the value in a variable that later steps read."
    )

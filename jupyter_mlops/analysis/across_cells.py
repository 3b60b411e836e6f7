"""Every cell of a pipeline analysed at once, for `compiler.plan_pipeline`.

- Every problem is collected (each with its cell and line), so compile reports them all together.
- What other cells import or define is known to each cell's analysis (`outside_code`), so
  `np.mean(x)` is known to be numpy's read-only function wherever `np` is imported, and a setup
  helper passed around is code, not a value.
- Setup code is held to the rules of steps: a module it uses that another cell imports travels into
  it as an import line (put first, in place of the `%%pipeline setup` line, so the setup code's own
  line numbers are the user's); a name it reads that nothing provides is an error.
- Seeding a global random generator gets a note: every step is a new process, so the stream starts
  again in every step (with the seed from setup) or only holds in the seeding step.
"""

from __future__ import annotations

import ast
import builtins
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import CellError
from .cell import CellAnalysis, Prepared, analyze_cell
from .changes import FunctionSummary
from .tree_nodes import walk

if TYPE_CHECKING:
    from ..notebook.pipeline import Pipeline

SETUP_CELL = "%%pipeline setup"
# Names a compiled step provides itself (the inlined stand-in for jupyter_mlops), by import path.
PROVIDED_CODE = {
    "log_metric": "jupyter_mlops.log_metric",
    "logdir": "jupyter_mlops.logdir",
    "log_embedding": "jupyter_mlops.log_embedding",
    "mlops": "jupyter_mlops",
}
_BUILTINS = frozenset(dir(builtins)) - {"display", "get_ipython", "__IPYTHON__", "dreload"}
_MODULE_NAMES = frozenset({"__name__", "__doc__", "__file__", "__builtins__", "__spec__", "__loader__"})
SEEDS = frozenset(
    {
        "numpy.random.seed", "random.seed", "torch.manual_seed", "torch.cuda.manual_seed",
        "torch.cuda.manual_seed_all", "tensorflow.random.set_seed", "tensorflow.set_random_seed",
        "tensorflow.compat.v1.set_random_seed", "keras.utils.set_random_seed",
        "tensorflow.keras.utils.set_random_seed",
    }
)  # fmt: skip


GENERATORS = frozenset(
    {
        "numpy.random.default_rng",
        "numpy.random.RandomState",
        "numpy.random.Generator",
        "random.Random",
        "torch.Generator",
    }
)


@dataclass
class CellAnalyses:
    setup: CellAnalysis | None
    steps: list[tuple[str, CellAnalysis]]  # the steps analysed, up to the first that failed
    complete: bool  # every cell was analysed (else data-flow errors past a failed cell are unknown)
    errors: list[CellError] = field(default_factory=list)
    outside_code: dict[str, str] = field(default_factory=dict)
    notes: list[tuple[str, int | None, str]] = field(default_factory=list)  # (cell, line, message)


def analyze_pipeline(pipeline: Pipeline) -> CellAnalyses:
    """Analyse the setup cell and every step, twice: the first pass learns what the cells import and
    define, the second tells each cell (see the module docstring)."""
    prepared: Prepared = {}  # each cell converted, parsed and checked once for both passes
    first = _analyze(pipeline, {}, prepared)
    code = dict(PROVIDED_CODE)
    code.update(_code_names([a for a in [first.setup, *(a for _, a in first.steps)] if a is not None]))
    result = _analyze(pipeline, code, prepared, _unaffected(first, code))
    result.outside_code = code
    for cell, analysis in [(SETUP_CELL, result.setup), *result.steps]:
        if analysis is not None:
            for line, function, bound in seed_calls(analysis, code):
                if function in SEEDS:
                    result.notes.append((cell, line, _seed_note(function, setup=analysis is result.setup)))
                elif analysis is result.setup and bound:
                    result.notes.append((cell, line, _generator_note(bound)))
    result.notes += _state_notes(result, code)
    order = {SETUP_CELL: -1} | {step: index for index, (step, _) in enumerate(result.steps)}
    result.notes.sort(key=lambda note: (order.get(note[0], len(order)), note[1] or 0))  # as they read
    return result


def _state_notes(cells: CellAnalyses, code: Mapping[str, str]) -> list[tuple[str, int | None, str]]:
    """A note for each change a step makes to a module's or a class's state that a later step uses
    (analysis/state_changes.py)."""
    from .state_changes import (
        class_state,
        class_state_calls,
        class_state_note,
        process_changes,
        process_note,
        self_changing_wrappers,
        state_changes,
        state_note,
    )

    cell_trees = [a.syntax_tree() for a in [cells.setup, *(a for _, a in cells.steps)] if a is not None]
    classes = {node.name for tree in cell_trees for node in tree.body if isinstance(node, ast.ClassDef)}
    wrappers = {name: change for tree in cell_trees for name, change in self_changing_wrappers(tree).items()}
    changing = {name: state for tree in cell_trees for name, state in class_state(tree, wrappers).items()}
    last_read: dict[str, int] = {}  # name -> the last step (its index) that reads it: linear, not n²
    last_member: dict[str, int] = {}  # attribute -> the last step using it (`c.bump()`, `Counter.total`)
    last_owner: dict[str, int] = {}  # name -> the last step using an attribute of it (`fact.calls`)
    for index, (_, analysis) in enumerate(cells.steps):
        last_read.update(dict.fromkeys(analysis.all_reads, index))
        if changing:
            attributes = [n for n in walk(analysis.syntax_tree()) if isinstance(n, ast.Attribute)]
            last_member.update(dict.fromkeys((n.attr for n in attributes), index))
            owners = (n.value.id for n in attributes if isinstance(n.value, ast.Name))
            last_owner.update(dict.fromkeys(owners, index))
    notes: list[tuple[str, int | None, str]] = []
    for index, (step, analysis) in enumerate(cells.steps):
        for line, call, name, statement in class_state_calls(analysis, changing) if changing else []:
            if changing[name].kind == "function":  # a later step calling it or reading its attributes
                later = max(last_read.get(name, -1), last_owner.get(name, -1))
            else:  # a later step using the class, or an object of it
                later = max(
                    [last_read.get(name, -1), *(last_member.get(m, -1) for m in changing[name].members)]
                )
            if later > index:
                notes.append((step, line, class_state_note(call, name, statement, changing[name].kind)))
        process = process_changes(analysis, code) if index < len(cells.steps) - 1 else []
        notes += [(step, line, process_note(statement, what)) for line, statement, what in process]
        said = {(line, statement) for line, statement, _ in process}
        for line, statement, root in state_changes(analysis, code):
            if (line, statement) in said:
                continue  # said once, as a change to the step's process
            if last_read.get(root, -1) > index:  # a later step uses it
                path = code.get(root, analysis.import_paths.get(root, ""))
                notes.append((step, line, state_note(statement, root, path, is_class=root in classes)))
    return notes


_WORD = re.compile(r"\w+")


def _unaffected(
    first: CellAnalyses, code: Mapping[str, str]
) -> dict[str, tuple[CellAnalysis, frozenset[str]]]:
    """The cells whose first analysis the second would make again: no word of the cell's text is a
    name other cells import or define (`code`) or a function any cell defines (whose summary the
    analysis would look up), and no star import (it binds names its text does not show). The
    analyses look names up as the cell's own code uses them, and a name in a tree is a word of its
    text (identifiers NFKC-normalized, as the parser reads them). Cell label -> (the analysis, its
    words)."""
    cells = [(SETUP_CELL, first.setup), *first.steps]
    functions = {name for _, a in cells if a is not None for name in a.summaries}
    names = functions | set(code)
    found: dict[str, tuple[CellAnalysis, frozenset[str]]] = {}
    for cell, analysis in cells:
        if analysis is None:
            continue
        text = (
            analysis.source if analysis.source.isascii() else unicodedata.normalize("NFKC", analysis.source)
        )
        words = frozenset(_WORD.findall(text))
        if words.isdisjoint(names) and not ("import" in words and "*" in text):
            found[cell] = (analysis, words)
    return found


def _analyze(
    pipeline: Pipeline,
    code: Mapping[str, str],
    prepared: Prepared,
    unaffected: Mapping[str, tuple[CellAnalysis, frozenset[str]]] | None = None,
) -> CellAnalyses:
    """Every cell analysed with `code` (names other cells import or define); `unaffected`: cells
    whose analysis an earlier pass made and this one would make again (`_unaffected`), taken as
    they are when no function summary this pass knows by then has a name of theirs."""
    errors: list[CellError] = []
    setup: CellAnalysis | None = None
    kept = unaffected or {}
    if pipeline.setup.strip():
        try:
            # first_line=2: the magic line is line 1, as in a step.
            setup = (
                kept[SETUP_CELL][0]
                if SETUP_CELL in kept
                else analyze_cell(
                    pipeline.setup, cell=SETUP_CELL, first_line=2, outside_code=code, prepared=prepared
                )
            )
        except CellError as exc:
            errors.append(exc)
    steps: list[tuple[str, CellAnalysis]] = []
    failed = bool(errors)
    # What calls of the setup's functions change, and of the functions earlier steps define (a later
    # step that calls one carries its code: carried_code.py); a step's own functions come last.
    helpers: Mapping[str, FunctionSummary] = setup.summaries if setup is not None else {}
    for step in pipeline:
        try:
            if step.name in kept and kept[step.name][1].isdisjoint(helpers):
                analysis = kept[step.name][0]
            else:
                analysis = analyze_cell(
                    step.source,
                    cell=step.name,
                    first_line=2,
                    outside_code=code,
                    summaries=helpers,
                    prepared=prepared,
                )
        except CellError as exc:
            errors.append(exc)
            failed = True
            continue
        if not failed:
            steps.append((step.name, analysis))
        if analysis.summaries:
            helpers = {**helpers, **analysis.summaries}
    return CellAnalyses(setup, steps, complete=not errors, errors=errors)


def _code_names(analyses: Iterable[CellAnalysis]) -> dict[str, str]:
    """Names every cell that binds them binds to an import (-> its path) or a def/class (-> '')."""
    found: dict[str, set[str]] = {}
    data: set[str] = set()
    for analysis in analyses:
        for name in analysis.binds:
            if name in analysis.import_paths:
                found.setdefault(name, set()).add(analysis.import_paths[name])
            elif name in analysis.definitions:
                found.setdefault(name, set()).add("")
            else:
                data.add(name)
    return {name: paths.pop() for name, paths in found.items() if len(paths) == 1 and name not in data}


def dotted_call(node: ast.Call, import_paths: Mapping[str, str]) -> str | None:
    """`np.random.seed(0)` -> 'numpy.random.seed' when `np` is an import; None otherwise."""
    attrs: list[str] = []
    current: ast.expr = node.func
    while isinstance(current, ast.Attribute):
        attrs.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name) or current.id not in import_paths:
        return None
    return ".".join([import_paths[current.id], *reversed(attrs)]) or None


def seed_calls(analysis: CellAnalysis, code: Mapping[str, str]) -> list[tuple[int, str, str]]:
    """(user line, function, name bound or '') of each call seeding a global random stream or making
    a generator in the cell (`rng = np.random.default_rng(0)` binds 'rng')."""
    paths = {n: p for n, p in code.items() if p} | analysis.import_paths
    tree = analysis.syntax_tree()
    bound = {
        id(node.value): node.targets[0].id
        for node in tree.body
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
    }
    found: list[tuple[int, str, str]] = []
    for node in walk(tree):
        if isinstance(node, ast.Call):
            path = dotted_call(node, paths)
            if path in SEEDS or path in GENERATORS:
                found.append((analysis.user_line(node.lineno), path, bound.get(id(node), "")))
    return sorted(found)


def _generator_note(name: str) -> str:
    return (
        f"`{name}` is a random generator made in setup: every step starts from a new one, made from "
        f"the seed. A step that draws from `{name}` passes it on, so later steps continue its stream "
        "as in the kernel; draws made inside setup functions are not passed on, so each step that "
        "calls them starts the stream again."
    )


def _seed_note(function: str, *, setup: bool) -> str:
    short = function.replace("numpy.", "np.").replace("tensorflow.", "tf.")
    if setup:
        return (
            f"{short}(...) seeds a global random stream: every step runs the setup code in a new "
            "process, so each step starts that stream again from the seed (in the kernel it continues "
            "from cell to cell, so steps may draw different numbers than the notebook did). For one "
            "stream through the steps, create a generator in a step (rng = np.random.default_rng(0)) "
            "and use it: steps that draw from it pass it on."
        )
    return (
        f"{short}(...) seeds a global random stream for this step only: later steps run in new "
        "processes and do not continue it (in the kernel it continues from cell to cell). Seed in "
        "%%pipeline setup, or pass a generator (rng = np.random.default_rng(0)) from step to step."
    )


def constant_names(analysis: CellAnalysis) -> set[str]:
    """Names the cell binds once, at its top level, to a number, string, bool or None
    (`THRESHOLD = 0.5`): no call can change such a value in place."""
    tree = analysis.syntax_tree()
    stores: dict[str, int] = {}
    for node in walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            stores[node.id] = stores.get(node.id, 0) + 1
    return {
        node.targets[0].id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and stores.get(node.targets[0].id) == 1
    }


def setup_needs(
    setup: CellAnalysis,
    steps: list[tuple[str, CellAnalysis]],
    trees: Mapping[str, ast.Module],
    provided: Collection[str],
) -> tuple[list[str], list[CellError], list[tuple[int | None, str]]]:
    """What setup code reads from outside: (import lines for modules other cells import, errors for
    names nothing provides, notes for values only steps bind)."""
    from .value_kinds import import_statements

    imports: dict[str, str] = {}
    errors: list[CellError] = []
    notes: list[tuple[int | None, str]] = []
    for name in sorted(setup.all_reads, key=lambda n: (setup.read_lines.get(n, 0), n)):
        if name in provided or name in _BUILTINS or name in _MODULE_NAMES:
            continue
        line = setup.read_lines.get(name)
        importer = next((s for s, a in steps if name in a.import_paths), None)
        if importer is not None:
            imports[name] = import_statements(trees[importer], {name})[name]
        elif any(name in a.binds for _, a in steps):
            binder = next(s for s, a in steps if name in a.binds)
            notes.append(
                (
                    line,
                    f"setup code reads `{name}`, which only step {binder!r} defines: a step calling "
                    f"a setup function that reads it takes `{name}` as an input, but setup code outside "
                    "functions runs before a step's inputs are loaded and would fail there.",
                )
            )
        elif name in setup.reads:
            errors.append(
                CellError(
                    f"name {name!r} is read by the setup code but no cell imports or defines it: every "
                    "step runs the setup code first, and would fail there. Import or define it in "
                    "%%pipeline setup.",
                    cell=SETUP_CELL,
                    line=line,
                )
            )
    return list(imports.values()), errors, notes

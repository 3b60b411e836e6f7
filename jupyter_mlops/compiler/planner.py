"""From a notebook `Pipeline` to its plan: data flow, value kinds, packages, notes. No kfp here."""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..analysis.across_cells import SETUP_CELL, analyze_pipeline, constant_names, setup_needs
from ..analysis.alias_flow import follow_groups, stored_together
from ..analysis.carried_code import Definition, definitions_in, extra_reads, import_lines, with_reads
from ..analysis.cell import CellAnalysis
from ..analysis.dependencies import BUILTIN_NAMES, Override, infer_dependencies, topological_order
from ..analysis.file_order import FILES_LABEL, file_order
from ..analysis.interactive_calls import INTERACTIVE_NAMES, interactive_calls
from ..analysis.relative_paths import relative_paths_in
from ..analysis.star_imports import notebook_folder
from ..analysis.step_local_values import step_local_value
from ..analysis.tree_nodes import walk, walks_kept
from ..analysis.value_kinds import ARTIFACT, bindings, import_statements, output_kind
from ..errors import CellError, CellErrors, PipelineError, raise_all
from .plan import PROVIDED, Note, PipelinePlan, StepPlan, kfp_name
from .step_display import shows_figures

# What a value made from a step's own code is (step_local_value) when that code can travel to the reader
_CARRIED_KINDS = frozenset({"instance", "function", "class"})
# tqdm's notebook bars (widgets): a step using them shows text bars instead (step_runtime/run.py)
_NOTEBOOK_BARS = re.compile(
    r"\btqdm\.notebook\b|\btqdm_notebook\b|\btnrange\b|from\s+tqdm\s+import[^\n]*\bnotebook\b"
)

if TYPE_CHECKING:
    from ..notebook.pipeline import Pipeline


def _jupyter_mlops_uses(tree: ast.Module, analysis: CellAnalysis) -> set[str]:
    """Which of log_metric/logdir a cell uses: bare names, `mlops.<x>`, or names imported from us."""
    aliases = {n for n, m in analysis.imports.items() if m == "jupyter_mlops"} | {"mlops"}
    uses = set(analysis.reads & {"log_metric", "logdir", "log_embedding"})
    for node in walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            uses.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and node.module == "jupyter_mlops":
            uses.update(a.name for a in node.names)
    return uses


def _auto_packages(modules: set[str]) -> list[str]:
    """Pin the installed versions of the distributions providing `modules` (for `--packages auto`)."""
    from importlib import metadata

    dists = metadata.packages_distributions()
    pins: set[str] = set()
    for module in modules:
        if module in sys.stdlib_module_names or module == "jupyter_mlops":
            continue
        for dist in dists.get(module, []):
            if dist.replace("_", "-").lower() in ("jupyter-mlops", "kfp"):
                continue
            pins.add(f"{dist}=={metadata.version(dist)}")
    return sorted(pins, key=str.lower)


def _setup_place(pipeline: Pipeline, line: int | None) -> tuple[str, int | None]:
    """Which setup cell, and the user's line in it, for a line of the setup code as analysed.

    The setup code is analysed with the magic line as line 1 (`first_line=2`), so its line L is line
    L - 1 of `pipeline.setup`, the setup cells joined in notebook order.
    """
    return pipeline.setup_where(None if line is None else line - 1)


def _in_setup_cell(pipeline: Pipeline, error: CellError) -> CellError:
    cell, line = _setup_place(pipeline, error.line)
    if (cell, line) == (error.cell, error.line) or isinstance(error, CellErrors):
        return error
    return CellError(error.detail, cell=cell, line=line)


def _cell_position(position: Mapping[str, int], cell: str | None) -> int:
    """Notebook order of a message's cell: setup cells first, then steps, then the rest."""
    if cell is not None and cell.startswith(SETUP_CELL):
        return -1
    return position.get(cell or "", len(position))


def _scalars(
    analyses: list[tuple[str, CellAnalysis]], trees: Mapping[str, ast.Module]
) -> dict[str, set[str]]:
    """Per step, the names it surely leaves a number, string or bool in (they share nothing)."""
    shadowed = {n for _, a in analyses for n in a.binds if hasattr(builtins, n)}
    return {
        name: {
            var
            for var in a.binds - a.maybe_binds
            if output_kind(trees[name], var, shadowed) in ("int", "float", "str", "bool")
        }
        for name, a in analyses
    }


def _may_change_notes(step: str, names: frozenset[str], analysis: CellAnalysis) -> list[Note]:
    """One note per line and reason for values a step passes on because it may have changed them:
    "`a`, `b`: each may be changed through `d`, ..." rather than a note for each name."""
    by_reason: dict[tuple[int, str], list[str]] = {}
    for var in sorted(names):
        line, why = analysis.may_change[var]
        subject = f"`{var}` "
        by_reason.setdefault((line, why.removeprefix(subject)), []).append(var)
    notes: list[Note] = []
    for (line, reason), group in by_reason.items():
        if len(group) == 1:
            var = group[0]
            text = f"{analysis.may_change[var][1]}; later steps that read `{var}` take it from this step"
        else:
            listed = ", ".join(f"`{v}`" for v in group)
            text = f"{listed}: each {reason}; later steps that read them take them from this step"
        notes.append(Note(step, line, text))
    return sorted(notes, key=lambda n: n.line or 0)


def _plain_cells_hint(pipeline: Pipeline) -> Callable[[str], str | None] | None:
    """Where a plain cell of the notebook defines a name, said for errors (notebook/plain_cells.py)."""
    if not len(pipeline.plain_cells):
        return None
    from ..notebook.plain_cells import missing_name_hint

    return lambda name: missing_name_hint(name, pipeline.plain_cells)


def _carry_classes(
    carried: dict[str, Definition],
    imports: dict[str, str],
    producer: str,
    definitions: Mapping[str, Mapping[str, Definition]],
    carried_by: Mapping[str, Mapping[str, Definition]],
    trees: Mapping[str, ast.Module],
    known: frozenset[str] | set[str],
    held: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Carry into a step the classes whose objects a stored value from `producer` may hold, and the
    functions it may hold (`held`): the producer's own and those it carries, each with the functions,
    classes and imports of its cell it needs, when that is all it needs besides what the step has
    anyway (`known`)."""
    candidates = [*definitions[producer].values(), *carried_by[producer].values()]
    for candidate in candidates:
        if (candidate.kind == "class" or candidate.name in held) and candidate.name not in carried:
            closure = _closure(
                candidate, definitions[candidate.origin], trees[candidate.origin], known | carried.keys()
            )
            if closure is not None:
                found, needed_imports = closure
                carried.update(found)
                statements = import_statements(trees[candidate.origin], needed_imports)
                imports.update((n, statements[n]) for n in sorted(needed_imports))


def _closure(
    definition: Definition, pool: Mapping[str, Definition], tree: ast.Module, known: frozenset[str] | set[str]
) -> tuple[dict[str, Definition], set[str]] | None:
    """`definition` with the definitions of its cell it needs, and the names of the imports of its
    cell they need; None if they need anything else (a value of the cell) besides `known`."""
    how = bindings(tree)
    found: dict[str, Definition] = {}
    imports: set[str] = set()
    todo = [definition]
    while todo:
        current = todo.pop()
        if current.name in found:
            continue
        found[current.name] = current
        for need in current.needs - known:
            if need in pool:
                todo.append(pool[need])
            elif how.get(need) == {"import"}:
                imports.add(need)
            else:
                return None  # followed only where a step reads the class itself (extra_reads)
    return found, imports


def _held_functions(
    tree: ast.Module, code: Mapping[str, Definition], inputs_hold: set[str]
) -> frozenset[str]:
    """The functions (of `code`: the step's own and those it carries) that the step's stored values may
    hold: those its code uses as values, not only calls (`fns = {"sq": square}`, `[square]`,
    `partial(square, 2)`), and those the values it loaded may hold (`inputs_hold`)."""
    functions = {name for name, d in code.items() if d.kind == "def"}
    if not functions:
        return frozenset()  # (most steps: no walk)
    called = {id(n.func) for n in walk(tree) if isinstance(n, ast.Call)}
    names = [n for n in walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    used = {n.id for n in names if n.id in functions and id(n) not in called}
    return frozenset(used | (inputs_hold & functions))


def _carried_notes(step: str, carried: Mapping[str, Definition], analysis: CellAnalysis) -> list[Note]:
    """Per defining step, which of its functions and classes this step runs first: those its code
    uses (and what they call), and the classes of objects its inputs may hold. `analysis`: the
    step's own (what its code reads)."""
    used: dict[str, list[str]] = {}
    held: dict[str, list[str]] = {}
    for definition in sorted(carried.values(), key=lambda d: d.start):
        read = definition.name in analysis.all_reads or definition.kind == "def"
        (used if read else held).setdefault(definition.origin, []).append(f"`{definition.name}`")
    notes = []
    for origin, names in used.items():
        lines = [analysis.read_lines[n.strip("`")] for n in names if n.strip("`") in analysis.read_lines]
        line = min(lines) if lines else None
        notes.append(
            Note(step, line, f"uses {', '.join(names)} from step {origin!r}: that code runs in this step too")
        )
    for origin, names in held.items():
        what = f"class {names[0]}" if len(names) == 1 else f"classes {', '.join(names)}"
        notes.append(
            Note(
                step,
                None,
                f"its inputs may hold objects of {what} of step {origin!r}: that code runs in this step too",
            )
        )
    return notes


def _carried_code(
    carried: Mapping[str, Definition],
    cells: Mapping[str, CellAnalysis],
    position: Mapping[str, int],
    imports: Mapping[str, str],
) -> tuple[tuple[str, str, tuple[int, ...]], ...]:
    """(defining step, source, the user's line of each line) per cell the step carries code from,
    in notebook order: the imports its definitions need (a base class, a decorator: needed when the
    class is defined, before the cell's own imports run), then the definitions in their order there."""
    by_origin: dict[str, list[Definition]] = {}
    for definition in carried.values():
        by_origin.setdefault(definition.origin, []).append(definition)
    out: list[tuple[str, str, tuple[int, ...]]] = []
    for origin in sorted(by_origin, key=lambda o: position.get(o, len(position))):
        defined = sorted(by_origin[origin], key=lambda d: d.start)
        needed = sorted(set().union(*(d.needs for d in defined)) & imports.keys())
        where = import_lines(cells[origin])
        first = cells[origin].user_line(defined[0].start)
        text, lines = "", tuple[int, ...]()
        for statement in dict.fromkeys(imports[n] for n in needed):
            names = [n for n in needed if imports[n] == statement]
            text, lines = text + statement + "\n", (*lines, where.get(names[0], first))
        for definition in defined:
            more, more_lines = definition.text(cells[origin])
            text, lines = text + more, lines + more_lines
        out.append((origin, text, lines))
    return tuple(out)


def _unloadable(made: tuple[str, str] | None, producer: str, setup_names: set[str]) -> str | None:
    """Why a later step cannot load a value its step `producer` makes as `made` says
    (`step_local_value`), and what to do, else None."""
    if made is None:
        return None
    what, definition = made
    if what == "generator":
        return (
            f"a generator made in step {producer!r}: it cannot be stored for a later step. Make it a "
            f"list (`list(...)`) in step {producer!r}, or make the generator in the step that uses it."
        )
    if what == "file":
        return (
            f"a file opened in step {producer!r}: an open file cannot be stored for a later step. Read "
            f"what you need in step {producer!r}, or open the file in the step that uses it."
        )
    if what == "lambda":
        return (
            f"a lambda defined in step {producer!r}: a later step cannot load it (steps pass data, not "
            "code). Make it a def in the %%pipeline setup cell, so every step has it."
        )
    if definition in setup_names:  # (a setup cell's class of that name: loadable)
        return None
    made_of = f"an instance of class {definition!r}" if what == "instance" else f"the {what} {definition!r}"
    return (
        f"{made_of} defined in step {producer!r}: a later step cannot load it (steps pass data, not "
        "code). Move that definition into the %%pipeline setup cell so every step has it."
    )


def plan_pipeline(pipeline: Pipeline) -> PipelinePlan:
    """The pipeline's plan; every problem found in its cells is raised at once (`errors.raise_all`)."""
    with walks_kept():  # each cell's tree listed once for all the passes that walk it (tree_nodes)
        return _plan(pipeline)


def _plan(pipeline: Pipeline) -> PipelinePlan:
    if not pipeline.steps:
        raise PipelineError(
            f"pipeline {pipeline.name!r} has no steps yet: mark cells with `%%component NAME` first"
        )
    with notebook_folder(pipeline.folder):  # `from helpers import *` of the notebook's folder
        cells = analyze_pipeline(pipeline)
    errors = list(cells.errors)
    setup, analyses = cells.setup, cells.steps
    setup_names = set(setup.binds) if setup else set()
    trees = {name: a.syntax_tree() for name, a in analyses}
    scalars = {p.name for p in pipeline.params.values() if p.type in ("int", "float", "str", "bool")}
    immutable = scalars | (constant_names(setup) if setup else set())
    aliases = follow_groups(analyses, setup, immutable=immutable, scalars=_scalars(analyses, trees))
    analyses = aliases.steps  # a step that may change one linked value may change them all
    files = file_order(pipeline, dict(analyses), setup)  # steps sharing files run in notebook order
    overrides = {
        s.name: Override(s.options.inputs, s.options.outputs, s.options.after + files.after[s.name])
        for s in pipeline
        if s.name in trees
    }
    definitions = {name: definitions_in(name, a) for name, a in analyses}
    own_analyses = dict(analyses)  # what each step's own code reads (before what its definitions need)
    if any(definitions.values()):  # a later step may use them: what they need, it reads
        extra = extra_reads(analyses, definitions)
        analyses = [(name, with_reads(a, *extra[name])) for name, a in analyses]
    try:
        io = infer_dependencies(
            analyses,
            params=pipeline.params.keys(),
            setup_names=setup_names | PROVIDED,
            overrides=overrides,
            errors=errors,
            immutable=immutable,
            elsewhere=_plain_cells_hint(pipeline),
        )
        order = topological_order(io)
    except PipelineError as exc:  # a cycle, an unknown --after step: said with the cells' problems
        if not errors:
            raise
        raise_all([*errors, CellError(str(exc))])
        raise
    by_name = dict(analyses)
    bound_anywhere = setup_names.union(*(a.binds for a in by_name.values()))
    shadowed = {n for n in bound_anywhere if hasattr(builtins, n)}

    # Imports travel as code (re-imported where used), and so do a step's top-level functions and
    # classes (carried_code.py); other code (a def in an `if`, a lambda) cannot travel.
    data_inputs: dict[str, dict[str, str]] = {}
    implicit_imports: dict[str, dict[str, str]] = {}  # step -> imported name -> its import statement
    carried: dict[str, dict[str, Definition]] = {}
    shared: dict[str, set[str]] = {n: set() for n, _ in analyses}  # classes later steps carry
    for name, _ in analyses:
        data_inputs[name], implicit_imports[name], carried[name] = {}, {}, {}
        for var, producer in sorted(io[name].inputs.items()):
            how = bindings(trees[producer]).get(var, {"assign"})
            made = step_local_value(trees[producer], var) if how == {"assign"} else None
            if how == {"import"}:
                implicit_imports[name][var] = import_statements(trees[producer], {var})[var]
            elif var in definitions[producer]:
                carried[name][var] = definitions[producer][var]
            elif made is not None and made[0] in _CARRIED_KINDS and made[1] in definitions[producer]:
                # `acc = Acc()`, `C = Acc`, `f = helper`: the code travels with the reader (extra_reads,
                # and _carry_classes for what a stored value holds)
                data_inputs[name][var] = producer
            elif how & {"def", "class"}:
                what = "function" if "def" in how else "class"
                errors.append(
                    CellError(
                        f"uses {var!r}, a {what} defined in step {producer!r} where its code cannot travel "
                        "to later steps (inside an `if`, a loop or a `try`, or bound to something else too). "
                        "Define it once at the top level of that cell, or in the %%pipeline setup cell.",
                        cell=name,
                        line=by_name[name].read_lines.get(var),
                    )
                )
            elif (why := _unloadable(made, producer, setup_names)) is not None:
                errors.append(
                    CellError(
                        f"uses {var!r}, {why}",
                        cell=name,
                        line=by_name[name].read_lines.get(var),
                    )
                )
            else:
                data_inputs[name][var] = producer
    consumed: dict[str, set[str]] = {n: set() for n, _ in analyses}
    for inputs in data_inputs.values():
        for var, producer in inputs.items():
            consumed[producer].add(var)

    setup_prelude = ""
    notes = [Note(cell, line, message) for cell, line, message in cells.notes]
    if setup is not None:
        provided = setup_names | PROVIDED | set(pipeline.params)
        imports, setup_errors, setup_notes = setup_needs(setup, analyses, trees, provided)
        if cells.complete:  # a step that failed to parse may be the one importing what setup needs
            errors += setup_errors
        # One line in place of the %%pipeline setup line (the imports setup code needs from other
        # cells, or nothing): line N of the plan's setup is line N of the cell, as the user counts.
        setup_prelude = "; ".join(imports) + "\n"
        notes += [Note(*_setup_place(pipeline, line), msg) for line, msg in [*setup.notes, *setup_notes]]
    setup_params = tuple(sorted(setup.reads & pipeline.params.keys())) if setup else ()
    setup_imports = set(setup.imported_modules) if setup else set()
    kinds: dict[tuple[str, str], str] = {}
    plans: dict[str, StepPlan] = {}
    position = {SETUP_CELL: -1, **{s.name: i for i, s in enumerate(pipeline)}}
    held: dict[str, frozenset[str]] = {}  # step -> functions its stored values may hold
    setup_options = pipeline.setup_options  # (made from the setup cells each time it is read)
    for name in order:
        step, analysis = pipeline.steps[name], by_name[name]
        outs = sorted(io[name].outputs if step.options.outputs is not None else consumed[name])
        for var in outs:
            # A name bound on some paths only may pass on an earlier step's value, or none: artifact.
            surely = var in analysis.binds and var not in analysis.maybe_binds
            kinds[(name, var)] = output_kind(trees[name], var, shadowed) if surely else ARTIFACT
        groups = stored_together(aliases.groups[name], outs)
        for var in frozenset().union(*groups):
            kinds[(name, var)] = ARTIFACT  # stored together, as one pickle
        result = analysis.last_expression is not None
        if result and "result" in outs:
            errors.append(
                CellError(
                    "the variable 'result' is read by later steps, and the cell's last line is also a "
                    "bare expression (the step's `result` output). Rename the variable or end the cell "
                    "differently.",
                    cell=name,
                    line=analysis.user_line(trees[name].body[-1].lineno),
                )
            )
        uses = _jupyter_mlops_uses(trees[name], analysis)
        packages = list(setup_options.packages) + list(step.options.packages)
        if step.options.auto_packages or setup_options.auto_packages:
            packages += _auto_packages(set(analysis.imported_modules) | setup_imports)
        known: frozenset[str] | None = None  # made for the first artifact input (most steps: none)
        inputs_hold: set[str] = set()  # functions the values it loads may hold
        for var, producer in sorted(data_inputs[name].items()):
            if kinds[(producer, var)] == ARTIFACT:  # may hold objects of the producer's classes
                if known is None:
                    known = BUILTIN_NAMES | setup_names | PROVIDED | set(pipeline.params)
                    known |= set(data_inputs[name])
                _carry_classes(
                    carried[name],
                    implicit_imports[name],
                    producer,
                    definitions,
                    carried,
                    trees,
                    known,
                    held[producer],
                )
                inputs_hold |= held[producer]
        for producer in set(data_inputs[name].values()):  # it may store them: this step has them
            shared[producer].update(
                d.name
                for d in carried[name].values()
                if (d.kind == "class" or d.name in held[producer])
                and (d.origin == producer or d.name in carried[producer])
            )
        held[name] = _held_functions(trees[name], {**definitions[name], **carried[name]}, inputs_hold)
        statements = list(dict.fromkeys(implicit_imports[name].values()))
        prelude = "".join(line + "\n" for line in statements)
        params = sorted(set(setup_params) | io[name].params)
        carried_code = _carried_code(carried[name], by_name, position, implicit_imports[name])
        plans[name] = StepPlan(
            name=name,
            source=prelude + analysis.source,
            params=tuple(params),
            inputs={v: (p, kinds[(p, v)]) for v, p in data_inputs[name].items()},
            outputs={v: kinds[(name, v)] for v in outs},
            result=result,
            uses_metrics="log_metric" in uses,
            uses_logdir=bool(uses & {"logdir", "log_embedding"}),  # log_embedding writes there
            packages=tuple(dict.fromkeys(packages)),
            after=tuple(
                s
                for s in dict.fromkeys(step.options.after + files.after[name])
                if s not in data_inputs[name].values()
            ),
            options=files.options(name, step.options),
            may_change=frozenset(outs).intersection(analysis.may_change),
            line_map=(1,) * len(statements) + analysis.line_map,
            groups=groups,
            shows_figures=shows_figures(trees[name], analysis, setup_imports),
            carried=carried_code,
            text_progress=any(
                _NOTEBOOK_BARS.search(text)
                for text in (pipeline.setup, prelude + analysis.source, *(c[1] for c in carried_code))
            ),
        )
        notes += _carried_notes(name, carried[name], own_analyses[name])
    for step in pipeline:
        if keyword.iskeyword(step.name):
            errors.append(
                CellError(f"step name {step.name!r} is a Python keyword; choose another name", cell=step.name)
            )
    plans = {n: replace(p, shared=frozenset(shared[n])) if shared[n] else p for n, p in plans.items()}
    errors = [_in_setup_cell(pipeline, e) if e.cell == SETUP_CELL else e for e in errors]
    raise_all(sorted(errors, key=lambda e: (_cell_position(position, e.cell), e.line or 0)))
    edges: list[tuple[str, str, str]] = []
    for name in order:
        by_producer: dict[str, list[str]] = {}
        for var, (producer, _) in plans[name].inputs.items():
            label = var + (" (may change)" if var in plans[producer].may_change else "")
            by_producer.setdefault(producer, []).append(label)
        edges += [(p, name, ", ".join(sorted(vs))) for p, vs in sorted(by_producer.items())]
        own = pipeline.steps[name].options.after
        edges += [(a, name, "" if a in own else FILES_LABEL) for a in plans[name].after]
    setup_code = set(setup.binds - setup.import_paths.keys()) if setup else set()  # (an own `input`)
    for name, analysis in analyses:
        notes += [Note(name, line, msg) for line, msg in [*analysis.notes, *files.notes[name]]]
        notes += [
            Note(name, n, msg) for n, msg in relative_paths_in(analysis.syntax_tree(), analysis.user_line)
        ]
        if (analysis.all_reads | analysis.import_paths.keys()) & INTERACTIVE_NAMES:
            bound = (analysis.binds - analysis.import_paths.keys()) | setup_code | io[name].inputs.keys()
            calls = interactive_calls(analysis.syntax_tree(), analysis.user_line, bound)
            notes += [Note(name, n, msg) for n, msg in calls]
        if name in plans:
            notes += _may_change_notes(name, plans[name].may_change, analysis)
    notes.sort(key=lambda n: _cell_position(position, n.cell))  # stable: each cell's own order
    return PipelinePlan(
        name=pipeline.name,
        kfp_name=kfp_name(pipeline.name),
        params=dict(pipeline.params),
        setup=setup_prelude + setup.source if setup else "",
        # The prelude line stands for the magic line (1); setup was analysed with first_line=2.
        setup_line_map=(1, *setup.line_map) if setup else (),
        steps=[plans[n] for n in order],
        edges=edges,
        notes=notes,
        inline_runtime=setup_options.inline_runtime,
    )


def describe(plan: PipelinePlan) -> Mapping[str, Any]:
    """A JSON-friendly summary of the plan (for `%pipeline show` and tests)."""
    return {
        "name": plan.name,
        "params": {p.name: {"type": p.type, "default": p.default} for p in plan.params.values()},
        "steps": [
            {
                "name": s.name,
                "params": list(s.params),
                "inputs": {v: {"from": p, "kind": k} for v, (p, k) in s.inputs.items()},
                "outputs": dict(s.outputs) | ({"result": ARTIFACT} if s.result else {}),
                "after": list(s.after),
                "may_change": sorted(s.may_change),
                "stored_together": [sorted(g) for g in s.groups],
                "packages": list(s.packages),
            }
            for s in plan.steps
        ],
        "edges": [list(e) for e in plan.edges],
        "notes": [str(n) for n in plan.notes],
    }

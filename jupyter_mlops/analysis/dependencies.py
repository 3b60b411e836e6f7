"""Which step needs which value from which earlier step, inferred from the cells' analyses.

A name a step reads is an input of that step when an earlier step binds it or MAY change it in
place (`CellAnalysis.mutates`: `x[i] = ..`, `model.fit(..)`, `helper(df)`, ...); the value comes
from the latest such step, as it would in the notebook run top to bottom, and the reader runs after
it. Parameters and setup names are passed by the compiler, unless a step rebinds or may change
them: later readers then take that step's value (numbers, strings and bools among them cannot
change in place: `immutable`). Builtins are fine unless a step shadows them (`list = [...]`).

One more notebook rule: a step that binds a name only on some paths (`if cond: x = 2`) may leave an
earlier value in place. When a later step reads that name from it, the step also takes the earlier
value as an input, so it can pass it on unchanged.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import heapq
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from jupyter_mlops.analysis.cell import CellAnalysis
from jupyter_mlops.analysis.tree_nodes import walk
from jupyter_mlops.errors import CellError, PipelineError, raise_all

# What every step has without being given it. IPython adds `display` and `get_ipython` to the
# kernel's builtins; a step runs plain Python and has neither.
BUILTIN_NAMES = frozenset(dir(builtins)) - {"display", "get_ipython", "__IPYTHON__", "dreload"}
MODULE_NAMES = frozenset(
    {"__name__", "__doc__", "__file__", "__package__", "__loader__", "__spec__", "__builtins__",
     "__cached__", "__annotations__"}
)  # fmt: skip
_IPYTHON_HISTORY = re.compile(r"^(_{1,3}|_i{1,3}|_i?\d+|In|Out|_oh|_ih|_dh)$")


@dataclass(frozen=True)
class Override:
    """A step's `--inputs`, `--outputs` and `--after` options."""

    inputs: tuple[str, ...] | None = None  # replaces the inferred inputs
    outputs: tuple[str, ...] | None = None  # replaces what the step gives later steps
    after: tuple[str, ...] = ()  # steps it runs after, with no data between them


@dataclass(frozen=True)
class StepIO:
    inputs: dict[str, str]  # name -> the step producing it, sorted by name
    outputs: frozenset[str]  # names later steps take from this step (`result` is the compiler's)
    after: frozenset[str]  # steps this one runs after: its data producers and its --after
    # Pipeline parameters the step needs from the compiler: those it reads (also on some paths only,
    # or listed in --inputs) and does not take from a step, and those it must pass on unchanged.
    params: frozenset[str] = frozenset()


def infer_dependencies(
    steps: Sequence[tuple[str, CellAnalysis]],
    *,
    params: Collection[str],
    setup_names: Collection[str],
    overrides: Mapping[str, Override] | None = None,
    errors: list[CellError] | None = None,
    immutable: Collection[str] = (),
    elsewhere: Callable[[str], str | None] | None = None,
) -> dict[str, StepIO]:
    """The inputs, outputs and ordering of each step, in notebook order (the order of `steps`).

    Every name no step provides is a CellError: all of them are raised at once (`CellErrors`), or,
    when `errors` is given, appended to it (the names are then simply no inputs) for the caller to
    report with its own. `immutable`: parameters and setup names whose values cannot change in place
    (numbers, strings, bools): a step that may change one of them, while no step rebound it, is no
    producer of it. `elsewhere(name)`: where outside the steps the notebook defines a name no step
    provides, and what to do about it (its plain cells), or None; the error for that name says it.
    """
    order = [name for name, _ in steps]
    _check_names(order, overrides or {})
    overrides = overrides or {}
    provided = frozenset(params) | frozenset(setup_names)
    flow = _Flow(steps, overrides, provided, frozenset(params))
    flow.immutable = frozenset(immutable)
    flow.elsewhere = elsewhere
    for index, (step, analysis) in enumerate(steps):
        flow.step_inputs(index, step, analysis, overrides.get(step, Override()))
        flow.step_leaves(step, analysis, overrides.get(step, Override()))
    flow.pass_through(steps, overrides)
    result: dict[str, StepIO] = {}
    for step, _ in steps:
        override = overrides.get(step, Override())
        outputs = flow.taken[step] if override.outputs is None else set(override.outputs)
        inputs = dict(sorted(flow.inputs[step].items()))
        after = frozenset(inputs.values()) | set(override.after)
        result[step] = StepIO(
            inputs, frozenset(outputs), after, frozenset(flow.params_needed[step] - set(inputs))
        )
    if errors is None:
        raise_all(flow.errors)
    else:
        errors.extend(flow.errors)
    topological_order(result)  # unknown --after steps and cycles fail here, with the steps named
    return result


def _check_names(order: list[str], overrides: Mapping[str, Override]) -> None:
    seen: set[str] = set()
    for name in order:
        if name in seen:
            raise PipelineError(f"two cells define step {name!r}; give each %%component cell its own name")
        seen.add(name)
    for name in overrides:
        if name not in seen:
            raise PipelineError(f"options are given for step {name!r}, which is not a step of this pipeline")


class _Flow:
    """Where each name's value comes from, walking the steps in notebook order."""

    def __init__(
        self,
        steps: Sequence[tuple[str, CellAnalysis]],
        overrides: Mapping[str, Override],
        provided: frozenset[str],
        params: frozenset[str],
    ) -> None:
        self.provided = provided
        self.params = params
        self.params_needed: dict[str, set[str]] = {name: set() for name, _ in steps}
        self.producer: dict[str, str] = {}  # name -> latest step so far that leaves it bound
        self.before: dict[tuple[str, str], str] = {}  # (step, name) -> the producer it replaced
        self.deleted_by: dict[str, str] = {}
        self.withheld: dict[str, str] = {}  # name -> step binding it whose --outputs leaves it out
        self.inputs: dict[str, dict[str, str]] = {}
        self.taken: dict[str, set[str]] = {name: set() for name, _ in steps}
        self.defined_at: dict[str, list[str]] = {}  # name -> every step producing it, in order
        self.bound_at: dict[str, list[str]] = {}  # of those, the steps that bind it (not only change it)
        for name, analysis in steps:
            override = overrides.get(name, Override())
            for produced in _produced(analysis, override):
                self.defined_at.setdefault(produced, []).append(name)
                if override.outputs is not None or produced in analysis.binds:
                    self.bound_at.setdefault(produced, []).append(name)
        self.position = {name: index for index, (name, _) in enumerate(steps)}
        self.analyses = dict(steps)
        self.elsewhere: Callable[[str], str | None] | None = None  # where else a name is defined, said
        self.errors: list[CellError] = []
        self.immutable: frozenset[str] = frozenset()

    def step_inputs(self, index: int, step: str, analysis: CellAnalysis, override: Override) -> None:
        found: dict[str, str] = {}
        if override.inputs is not None:
            for name in override.inputs:
                if name in self.producer:
                    found[name] = self.producer[name]
                elif name not in self.provided:
                    self.errors.append(
                        CellError(
                            f"--inputs names {name!r}, which {self._why_missing(index, name, step)}",
                            cell=step,
                        )
                    )
        else:
            by_line = sorted(analysis.reads, key=lambda n: (analysis.read_lines.get(n, 0), n))
            for name in by_line:
                if name in self.producer:
                    found[name] = self.producer[name]
                elif name in self.deleted_by and name not in BUILTIN_NAMES:
                    deleter = self.deleted_by[name]
                    self.errors.append(
                        CellError(
                            f"name {name!r} is read, but step {deleter!r} deletes it (del {name}) before "
                            f"this step runs. Remove that del, or define {name!r} again in a step in "
                            "between.",
                            cell=step,
                            line=analysis.read_lines.get(name),
                        )
                    )
                elif name not in self.provided and name not in BUILTIN_NAMES and name not in MODULE_NAMES:
                    self.errors.append(
                        CellError(
                            f"name {name!r} is read but {self._why_missing(index, name, step)}",
                            cell=step,
                            line=analysis.read_lines.get(name),
                        )
                    )
            for name in analysis.maybe_reads:
                if name in self.producer:
                    found[name] = self.producer[name]
        self.inputs[step] = found
        listed = set(override.inputs or ())
        self.params_needed[step] |= (analysis.reads | analysis.maybe_reads | listed) & self.params
        for name, producer in found.items():
            self.taken[producer].add(name)

    def _why_missing(self, index: int, name: str, step: str) -> str:
        # A later step that only calls a method of the name (np.polyfit(...)) does not define it.
        later = [s for s in self.bound_at.get(name, []) if self.position[s] > index]
        if later:
            return (
                f"only step {later[0]!r} defines it, and that step comes later in the notebook. "
                f"Move the {later[0]!r} cell above this one, or define {name!r} in an earlier step."
            )
        if name in self.withheld:
            owner = self.withheld[name]
            return (
                f"step {owner!r} defines it and its --outputs leaves it out. Add {name!r} to its --outputs."
            )
        if _IPYTHON_HISTORY.match(name):
            return (
                "it is IPython's input/output history, which a pipeline step does not have. "
                "Assign the value to a variable in an earlier step and read that variable."
            )
        if name == "display":
            return (
                "no earlier step, setup cell or parameter defines it: display() is IPython's. "
                "Use print(), or add `from IPython.display import display` to %%pipeline setup."
            )
        found = self.elsewhere(name) if self.elsewhere is not None else None
        if found is not None:  # a plain cell of the notebook (notebook/plain_cells.py)
            return f"no earlier step, setup cell or parameter defines it. {found}"
        dynamic = self._dynamic_definer(index)
        if dynamic is not None:
            step, line, how = dynamic
            return (
                f"no earlier step, setup cell or parameter defines it where the code can be read: step "
                f"{step!r} runs {how} (line {line}), whose names cannot be seen before it runs. If it "
                f"makes {name!r}, say so with --outputs on its %%component line, listing every name it "
                f"passes on (here: --outputs {','.join(self._passed_on(step, name))})."
            )
        close = self._close_name(name, step)
        guess = f"Did you mean {close!r}? If not, define" if close is not None else "Define"
        return (
            f"no earlier step, setup cell or parameter defines it. {guess} it in an earlier "
            "%%component cell or in %%pipeline setup, or make it a parameter in %%pipeline params."
        )

    def _close_name(self, name: str, step: str) -> str | None:
        """A known name that `name` may be a typo of (`modle` for `model`): one the step itself binds,
        an earlier step's value, a parameter, a setup cell's name or a builtin."""
        known = set(self.producer) | self.provided | self.params | self.analyses[step].binds
        known |= {b for b in BUILTIN_NAMES if not b.startswith("_")}
        close = difflib.get_close_matches(name, sorted(known - {name}), n=1, cutoff=0.8)
        return close[0] if close else None

    def _passed_on(self, step: str, also: str) -> list[str]:
        """What `step` makes that a later step reads, and `also`."""
        made = {n for n, makers in self.defined_at.items() if step in makers}
        later = [a for s, a in self.analyses.items() if self.position[s] > self.position[step]]
        read = set().union(*(a.reads for a in later)) if later else set()
        return sorted((made & read) | {also})

    def _dynamic_definer(self, index: int) -> tuple[str, int, str] | None:
        """The latest earlier step that may bind names no code shows: exec(...), globals()[...] = ...,
        globals().update(...)."""
        for step, position in sorted(self.position.items(), key=lambda item: -item[1]):
            if position >= index:
                continue
            analysis = self.analyses[step]
            for node in walk(analysis.syntax_tree()):
                how = _dynamic_binding(node)
                if how is not None:
                    return step, analysis.user_line(getattr(node, "lineno", 1)), how
        return None

    def step_leaves(self, step: str, analysis: CellAnalysis, override: Override) -> None:
        """Record what the step leaves for later steps: its values, and names it deleted."""
        produced = _produced(analysis, override)
        if override.outputs is None:
            changed_only = analysis.mutates - analysis.binds
            # An int parameter passed to a call is not changed by it. (Not `immutable - producer.keys()`:
            # that copies the set and goes through every name produced so far, each step.)
            produced -= {n for n in changed_only & self.immutable if n not in self.producer}
            if override.inputs is not None:  # with --inputs, it changes only what it is given
                produced -= changed_only - set(override.inputs) - self.provided
        if override.outputs is not None:
            for name in (analysis.binds | analysis.mutates) - produced:
                self.withheld[name] = step
        for name in produced:
            if name in self.producer:
                self.before[(step, name)] = self.producer[name]
            self.producer[name] = step
            self.deleted_by.pop(name, None)
            self.withheld.pop(name, None)
        for name in analysis.deletes - produced:
            self.producer.pop(name, None)
            self.deleted_by[name] = step

    def pass_through(
        self, steps: Sequence[tuple[str, CellAnalysis]], overrides: Mapping[str, Override]
    ) -> None:
        """A step binding a taken name on some paths only also takes the earlier value (last first,
        so a chain of such steps passes it all the way)."""
        for step, analysis in reversed(steps):
            if overrides.get(step, Override()).inputs is not None:
                continue
            for name in sorted(self.taken[step] & analysis.maybe_binds):
                earlier = self.before.get((step, name))
                if earlier is not None and name not in self.inputs[step]:
                    self.inputs[step][name] = earlier
                    self.taken[earlier].add(name)
                elif earlier is None and name in self.params:
                    self.params_needed[step].add(name)


def _produced(analysis: CellAnalysis, override: Override) -> frozenset[str]:
    if override.outputs is not None:
        return frozenset(override.outputs)
    return (analysis.binds | analysis.mutates) - analysis.deletes


def topological_order(io: Mapping[str, StepIO]) -> list[str]:
    """Steps in an order that respects `after`, notebook order among equals; PipelineError on a cycle."""
    position = {name: index for index, name in enumerate(io)}
    for name, step in io.items():
        for upstream in sorted(step.after):
            if upstream not in position:
                raise PipelineError(
                    f"step {name!r} runs --after {upstream!r}, which is not a step of this pipeline "
                    f"(its steps: {', '.join(io)})"
                )
    waiting = {name: set(step.after) for name, step in io.items()}
    downstream: dict[str, list[str]] = {name: [] for name in io}
    for name, step in io.items():
        for upstream in step.after:
            downstream[upstream].append(name)
    ready = [position[name] for name, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    names = list(io)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for child in downstream[name]:
            waiting[child].discard(name)
            if not waiting[child]:
                heapq.heappush(ready, position[child])
    if len(order) < len(io):
        cycle = _a_cycle({name: deps for name, deps in waiting.items() if deps}, position)
        raise PipelineError(
            f"steps {' -> '.join(cycle)} form a cycle (each must run before the next), so no order "
            "runs them all. Check the --after options of these steps."
        )
    return order


def _a_cycle(waiting: Mapping[str, set[str]], position: Mapping[str, int]) -> list[str]:
    """One cycle among steps that all still wait, as 'runs before' order, starting at the earliest."""
    current = min(waiting, key=position.__getitem__)
    path: list[str] = []
    while current not in path:
        path.append(current)
        current = min((dep for dep in waiting[current] if dep in waiting), key=position.__getitem__)
    cycle = path[path.index(current) :]  # each runs after the next
    cycle.reverse()
    start = min(range(len(cycle)), key=lambda i: position[cycle[i]])
    cycle = cycle[start:] + cycle[:start]
    return [*cycle, cycle[0]]


def _dynamic_binding(node: ast.AST) -> str | None:
    """How `node` may bind names that no statement shows, if it does."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "exec":
        return "exec(...)"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "update"
        and _is_globals_call(node.func.value)
    ):
        return "globals().update(...)"
    if isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Subscript) and _is_globals_call(target.value):
                return "globals()[...] = ..."
    return None


def _is_globals_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("globals", "vars", "locals")
        and not node.args
    )

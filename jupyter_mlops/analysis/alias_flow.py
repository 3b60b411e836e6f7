"""Values that may share objects, followed across steps: changing one member changes the group.

In the notebook `data = [train_df, test_df]` makes one set of objects reachable by three names; a
later `for d in data: d['Age'] = ..` changes `train_df` too. Steps store names separately, so the
data flow must know that names are linked (`alias_groups` finds the links a cell makes):

- A group forms in the step whose code links its names (`CellAnalysis.shares`), joining the groups
  of the names linked (for a name the step also rebinds, the group of its old value as well:
  `a = [a, c]`). It holds while its names are not rebound: a step that surely rebinds a name (or
  deletes it) takes that name out, unless the new value is linked again; the others stay together.
- A step that MAY change a member in place may change every member: each that a later step reads or
  changes becomes a value the step changes (`mutates`, and `may_change` with the reason), so the step
  takes them as inputs (`maybe_reads`: an input when an earlier step produces it) and readers of any
  member take it from this step and run after it. A member no later step names (the `row` of `for row
  in df.itertuples(): ...`) is left where it is: nothing could see it, and it may not even be storable.
- A step that binds or changes a member passes on the whole group at its end, so all members of a
  group always come from one producer. `groups` lists, per step, the groups it passes on; the
  compiler stores those members together (`StepPlan.groups`) and the step runtime writes them as one
  pickle, so what is one object in the notebook is one object in the next step too.

Sound, at a price: a group may be wider than what really shares (`df['col']` is a copy in pandas 3;
`total = a + b` of numbers), and then values are passed on that did not change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from jupyter_mlops.analysis.cell import CellAnalysis


@dataclass(frozen=True)
class AliasFlow:
    # The analyses, widened: members of the groups a step may change or passes on, where a later
    # step reads or changes one of them (else no step would see them), are changed by the step.
    steps: list[tuple[str, CellAnalysis]]
    groups: dict[str, tuple[frozenset[str], ...]]  # step -> groups of 2+ it passes on, at its end


_OLD = "\x00old "  # a token for the old values of a group (no Python name starts so)


class _Partition:
    """Names that may share objects, as disjoint groups (a name alone is in no group)."""

    def __init__(self) -> None:
        self.group: dict[str, frozenset[str]] = {}

    def of(self, name: str) -> frozenset[str]:
        return self.group.get(name, frozenset({name}))

    def remove(self, names: Iterable[str]) -> None:
        for name in names:
            rest = self.of(name) - {name}
            self.group.pop(name, None)
            for other in rest:
                if len(rest) > 1:
                    self.group[other] = rest
                else:
                    self.group.pop(other, None)

    def join(self, names: Iterable[str]) -> None:
        joined = frozenset().union(*(self.of(n) for n in names))
        if len(joined) > 1:
            for name in joined:
                self.group[name] = joined


def follow_groups(
    steps: Sequence[tuple[str, CellAnalysis]],
    setup: CellAnalysis | None = None,
    *,
    immutable: Collection[str] = (),
    scalars: Mapping[str, Collection[str]] | None = None,
) -> AliasFlow:
    """Walk the steps in notebook order, widening each analysis by the groups it may change.

    Numbers, strings and bools share nothing that can change: `immutable` names (scalar parameters,
    setup constants) and the names each step surely leaves a scalar in (`scalars`, by step) are in
    no group until a step binds them otherwise.
    """
    partition = _Partition()
    fixed = set(immutable)
    for targets, sources in setup.shares if setup is not None else ():
        partition.join((targets | sources) - fixed)
    widened: list[tuple[str, CellAnalysis]] = []
    groups: dict[str, tuple[frozenset[str], ...]] = {}
    last_use: dict[str, int] = {}  # name -> the last step that reads or changes it
    for index, (_, analysis) in enumerate(steps):
        last_use.update(dict.fromkeys(analysis.all_reads | analysis.mutates, index))
    for index, (step, analysis) in enumerate(steps):

        def later(names: Iterable[str], index: int = index) -> bool:
            """Whether a step after this one reads or changes one of `names`."""
            return any(last_use.get(name, -1) > index for name in names)

        changed: dict[str, tuple[int, str]] = {}
        for name in sorted(analysis.mutates):
            if not later(partition.of(name)):
                continue  # no later step reads any of them: the change is never seen
            line = analysis.may_change.get(name, (analysis.read_lines.get(name, 2), ""))[0]
            for member in sorted(partition.of(name) - {name}):
                if not later([member]):
                    continue  # no later step reads it: nothing sees it (`row` of `for row in ...`)
                why = (
                    f"`{member}` may be changed through `{name}`, which may hold it, be held by it or "
                    "share objects with it"
                )
                changed.setdefault(member, (line, why))
        start = dict(partition.group)
        surely = analysis.binds - analysis.maybe_binds
        partition.remove(surely | analysis.deletes)
        fixed -= analysis.binds | analysis.mutates
        fixed |= set((scalars or {}).get(step, ()))
        partition.remove(fixed & partition.group.keys())  # those in a group: `fixed` only grows
        tokens: set[str] = set()
        for targets, sources in analysis.shares:
            # A source the cell binds may be used before it is rebound: then the value is made of
            # its OLD value, which its old group shares objects with. An old group is a token here,
            # so values made of old values of one group are linked to each other and to the members
            # not rebound, while names rebound to new values stay out (unless linked themselves).
            rebound = sources & (analysis.binds | analysis.deletes)
            old = [start.get(n, frozenset({n})) for n in rebound]
            names = set(targets | sources).union(*(g - surely - analysis.deletes for g in old))
            names |= {_OLD + min(g) for g in old}
            tokens |= {_OLD + min(g) for g in old}
            partition.join(names - fixed)
        partition.remove(tokens)
        produced = (analysis.binds | analysis.mutates | changed.keys()) - analysis.deletes
        passed = sorted({partition.of(n) for n in produced if len(partition.of(n)) > 1}, key=sorted)
        groups[step] = tuple(passed)
        # Members a later step may read from this step (through the group, or themselves).
        extra = {m for g in passed if later(g) for m in g if later([m])} | changed.keys()
        extra -= analysis.binds | analysis.mutates | analysis.deletes
        if not extra:  # (what the replace below would give: the same sets and notes)
            widened.append((step, analysis))
            continue
        widened.append(
            (
                step,
                dataclasses.replace(
                    analysis,
                    mutates=analysis.mutates | extra,
                    maybe_reads=analysis.maybe_reads | (extra - analysis.reads),
                    may_change={**analysis.may_change, **{n: w for n, w in changed.items() if n in extra}},
                ),
            )
        )
    return AliasFlow(steps=widened, groups=groups)


def stored_together(groups: Sequence[frozenset[str]], outputs: Iterable[str]) -> tuple[frozenset[str], ...]:
    """Of a step's groups, the members among `outputs`, where two or more are (stored as one)."""
    chosen = frozenset(outputs)
    return tuple(g & chosen for g in groups if len(g & chosen) > 1)

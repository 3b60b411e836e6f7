"""The analysis against Python itself: random small cells are run, and every outside name they
really read must be one the analysis reports; every name they surely bind must really be bound."""

from __future__ import annotations

import random

import pytest
from random_cells import NAMES, RandomCell, run_tracked

from jupyter_mlops.analysis.cell import analyze_cell


@pytest.mark.parametrize("seed", range(20))
def test_random_cells_agree_with_python(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        lines = RandomCell(rng).block("", 0, size=rng.randint(2, 6))
        source = "\n".join(["from contextlib import nullcontext", *lines]) + "\n"
        try:
            compile(source, "<cell>", "exec")
        except SyntaxError:  # e.g. a walrus in a comprehension in a class body
            continue
        analysis = analyze_cell(source, cell="random")
        namespace, finished = run_tracked(source)
        needed = analysis.reads | analysis.maybe_reads
        assert namespace.read_from_outside <= needed, source
        bound_by_cell = {n for n in NAMES if n in namespace and namespace[n] is not namespace.outside[n]}
        assert bound_by_cell <= analysis.binds | analysis.mutates, source
        if finished:
            surely_bound = analysis.binds - analysis.maybe_binds - analysis.deletes
            assert surely_bound <= {n for n in namespace if not n.startswith("__")}, source
            assert not (analysis.deletes & set(namespace)), source

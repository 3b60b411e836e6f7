"""Inferred dependencies against the notebook itself: random notebooks are run twice, top to bottom
in one namespace (as in Jupyter) and step by step, each step in a fresh namespace holding only the
setup names, the parameters and its inferred inputs (as in a pipeline). Every step must then end
with the same values in both runs."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from random_cells import RandomCell

from jupyter_mlops.analysis.cell import analyze_cell
from jupyter_mlops.analysis.dependencies import StepIO, infer_dependencies, topological_order
from jupyter_mlops.errors import CellError

SETUP = {"a": 5, "c": 3}  # bound by the setup cell
PARAMS = {"b": 7, "d": 2}  # pipeline parameters
PRELUDE = "from contextlib import nullcontext\n"


def _notebook(rng: random.Random) -> list[tuple[str, str]]:
    steps = []
    for index in range(rng.randint(2, 5)):
        cell = RandomCell(rng)
        cell.functions = []  # functions stay inside their step: steps pass data, not code
        lines = cell.block("", 0, size=rng.randint(1, 3))
        # Give each step's functions its own names, so no step calls another step's function.
        source = re.sub(r"\bg(\d+)", rf"s{index}g\1", "\n".join(lines)) + "\n"
        steps.append((f"s{index}", PRELUDE + source))
    return steps


Runs = dict[str, tuple[dict[str, Any], dict[str, Any]]]  # step -> (namespace before, after)


def _run_notebook(steps: list[tuple[str, str]]) -> Runs | None:
    namespace: dict[str, Any] = {**SETUP, **PARAMS}
    runs: Runs = {}
    for name, source in steps:
        before = dict(namespace)
        try:
            exec(compile(source, name, "exec"), namespace)
        except Exception:
            return None  # the notebook itself fails: nothing to compare
        runs[name] = (before, dict(namespace))
    return runs


def _run_pipeline(steps: list[tuple[str, str]], io: dict[str, StepIO]) -> Runs:
    sources = dict(steps)
    outputs: dict[str, dict[str, Any]] = {}
    runs: Runs = {}
    for name in topological_order(io):
        namespace: dict[str, Any] = {**SETUP, **{param: PARAMS[param] for param in io[name].params}}
        for var, producer in io[name].inputs.items():
            # A producer may end without a name it binds on some paths only (`del x` in a branch,
            # an `except ... as x`): then the name is unbound here too, as in the notebook.
            if var in outputs[producer]:
                namespace[var] = outputs[producer][var]
            else:
                namespace.pop(var, None)
        before = dict(namespace)
        exec(compile(sources[name], name, "exec"), namespace)
        outputs[name] = {var: namespace[var] for var in io[name].outputs if var in namespace}
        runs[name] = (before, namespace)
    return runs


@pytest.mark.parametrize("seed", range(8))
def test_random_notebooks_run_the_same_as_pipelines(seed: int) -> None:
    rng = random.Random(seed)
    compared = 0
    outcomes = {"notebook fails": 0, "inference refuses": 0}
    for _ in range(300):
        if compared == 6:
            break
        steps = _notebook(rng)
        try:
            analyses = [(name, analyze_cell(source, cell=name)) for name, source in steps]
        except CellError:
            continue  # e.g. a walrus in a comprehension in a class body
        notebook = _run_notebook(steps)
        if notebook is None:
            outcomes["notebook fails"] += 1
            continue
        try:
            io = infer_dependencies(analyses, params=PARAMS, setup_names=SETUP)
        except CellError:
            outcomes["inference refuses"] += 1
            continue  # a name read on a path the notebook did not take: an honest compile-time error
        pipeline = _run_pipeline(steps, io)
        for name, analysis in analyses:
            # The step starts with the values it reads, as in the notebook...
            for var in sorted(analysis.reads | analysis.maybe_reads):
                expected = notebook[name][0].get(var)
                if isinstance(expected, int):
                    assert pipeline[name][0].get(var) == expected, ("before", name, var, steps, io)
            # ...and ends with the same values of what later steps take and what it surely binds.
            surely_bound = analysis.binds - analysis.maybe_binds - analysis.deletes
            for var in sorted(io[name].outputs | surely_bound):
                expected = notebook[name][1].get(var)
                if isinstance(expected, int):
                    assert pipeline[name][1].get(var) == expected, ("after", name, var, steps, io)
        compared += 1
    assert compared == 6, outcomes

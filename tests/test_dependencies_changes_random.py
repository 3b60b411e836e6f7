"""Soundness against Python itself for values changed in place (issue 9 item 1): random notebooks of
list operations (method calls, helpers, aliases, loops over lists, copies) run top to bottom in one
namespace, and as a pipeline: each step in a fresh namespace with deep copies of its inputs (as
serialization gives them), in an order the inferred edges allow. Every step must see the values
the notebook saw."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from jupyter_mlops.analysis.cell import analyze_cell
from jupyter_mlops.analysis.dependencies import StepIO, infer_dependencies, topological_order
from jupyter_mlops.errors import CellError

LISTS = ["p", "q", "r"]
NAMES = {*LISTS, "n", "history"}  # compared at the start of every step
SETUP = """\
history = []


def log(v):
    history.append(len(v))


def reset():
    global history
    history = []


def push(v, x):
    v.append(x)


def mystery(v):
    getattr(v, "append")(9)


def peek(v):
    return len(v)
"""


def _statement(rng: random.Random, index: int) -> list[str]:
    a, b, k = rng.choice(LISTS), rng.choice(LISTS), rng.randint(0, 5)
    forms = [
        [f"{a} = [{k}]"],
        [f"{a}.append({k})"],
        [f"{a}.extend([{k}, {k}])"],
        [f"{a}.sort()"],
        [f"{a}.reverse()"],
        [f"push({a}, {k})"],
        [f"mystery({a})"],
        [f"n = peek({a}) + len({b})"],
        [f"t = {a}", f"t.append({k})", "del t"],
        [f"for t in [{a}, {b}]:", f"    t.append({k})", "del t"],
        [f"if {a}:", f"    {a}[0] = {k}"],
        [f"c = {a}.copy()", "c.append(1)", "del c"],
        [f"def f{index}(v):", f"    v.insert(0, {k})", f"f{index}({a})"],
        [f"print({a}, sorted({b}))"],
        [f"if len({a}) > 2:", f"    {b}.append({k})"],
        [f"c = {a}.copy()", "if c and isinstance(c[0], list):", f"    c[0].append({k})", "del c"],
        [f"box = [{a}]", f"box[0].append({k})", "del box"],
        [f"g = {a}.append", f"g({k})", "del g"],
        [f"log({a})"],
        ["reset()"],
        ["print(history)"],
    ]
    return rng.choice(forms)


def _notebook(rng: random.Random) -> list[tuple[str, str]]:
    first = "p = [1]\nq = [2, 0]\nr = [[0], [1]]\n"
    steps = [("s0", first)]
    for index in range(1, rng.randint(3, 6)):
        lines: list[str] = []
        for _ in range(rng.randint(1, 3)):
            lines += _statement(rng, index)
        steps.append((f"s{index}", "\n".join(lines) + "\n"))
    return steps


def _setup_namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(SETUP, namespace)
    return namespace


def _run_notebook(steps: list[tuple[str, str]]) -> dict[str, dict[str, Any]] | None:
    namespace = _setup_namespace()
    before: dict[str, dict[str, Any]] = {}
    for name, source in steps:
        before[name] = copy.deepcopy({n: v for n, v in namespace.items() if n in NAMES})
        try:
            exec(source, namespace)
        except Exception:
            return None
    return before


def _run_pipeline(steps: list[tuple[str, str]], io: dict[str, StepIO]) -> dict[str, dict[str, Any]]:
    sources = dict(steps)
    outputs: dict[str, dict[str, Any]] = {}
    before: dict[str, dict[str, Any]] = {}
    for name in topological_order(io):
        namespace = _setup_namespace()
        for var, producer in io[name].inputs.items():
            if var in outputs[producer]:
                namespace[var] = copy.deepcopy(outputs[producer][var])  # each value on its own
        before[name] = copy.deepcopy({n: v for n, v in namespace.items() if n in NAMES})
        exec(sources[name], namespace)
        outputs[name] = {v: copy.deepcopy(namespace[v]) for v in io[name].outputs if v in namespace}
    return before


@pytest.mark.parametrize("seed", range(40))
def test_random_notebooks_changing_lists_run_the_same_as_pipelines(seed: int) -> None:
    rng = random.Random(seed)
    setup = analyze_cell(SETUP, cell="setup")
    compared = 0
    for _ in range(200):
        if compared == 8:
            break
        steps = _notebook(rng)
        notebook = _run_notebook(steps)
        if notebook is None:
            continue
        analyses = [
            (
                name,
                analyze_cell(
                    source,
                    cell=name,
                    outside_code={n: "" for n in ("push", "mystery", "peek", "log", "reset")},
                    summaries=setup.summaries,
                ),
            )
            for name, source in steps
        ]
        try:
            io = infer_dependencies(analyses, params=(), setup_names=setup.binds)
        except CellError:
            continue
        pipeline = _run_pipeline(steps, io)
        for name, analysis in analyses:
            for var in sorted(analysis.all_reads & NAMES):
                assert pipeline[name].get(var) == notebook[name].get(var), (name, var, steps, io)
        compared += 1
    assert compared == 8

"""Values that may share objects after a cell (`CellAnalysis.shares`): the relations a cell creates
among module-level names (`frames = [df]`, `d = df`, `{'train': train_df}`, `box.append(x)`), so the
data flow can keep them together across steps (issue 9, items 1 and 13)."""

from __future__ import annotations

import pytest

from jupyter_mlops.analysis.alias_groups import relation_groups
from jupyter_mlops.analysis.cell import analyze_cell

OUTSIDE = {"np": "numpy", "pd": "pandas", "helper": "", "open_thing": ""}


def shares(source: str) -> set[frozenset[str]]:
    return set(relation_groups(analyze_cell(source, cell="c", outside_code=OUTSIDE).shares))


def group(*names: str) -> frozenset[str]:
    return frozenset(names)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # the issue's forms: a list of frames, a plain alias, a dict, a set, a tuple, nested displays
        ("df = pd.DataFrame({'x': [1]}); frames = [df]", {group("df", "frames")}),
        (
            "train_df = pd.read_csv('a'); test_df = pd.read_csv('b')\ndata = [train_df, test_df]",
            {group("train_df", "test_df", "data")},
        ),
        ("d = df", {group("d", "df")}),
        ("sets = {'train': train_df}", {group("sets", "train_df")}),
        ("s = {a}", {group("s", "a")}),
        ("t = (a, b)", {group("t", "a", "b")}),
        ("nested = {'all': [a, (b,)]}", {group("nested", "a", "b")}),
        # unpacking: display against display pairs up; anything else relates every target
        ("x, y = a, b", {group("x", "a"), group("y", "b")}),
        ("x, y = pair", {group("x", "y", "pair")}),
        ("[x, *rest] = items", {group("x", "rest", "items")}),
        # parts of one value made from nothing of the notebook's still share with each other
        ("import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 3))", {group("fig", "ax")}),
        ("x = y = a", {group("x", "y", "a")}),
        # parts of a value may be views of it (numpy slices, attributes)
        ("v = a[1:]", {group("v", "a")}),
        ("w = model.coef_", {group("w", "model")}),
        # calls: view-returning and unknown ones relate; fresh results do not
        ("b = np.asarray(a)", {group("b", "a")}),
        ("r = helper(df)", {group("r", "df")}),
        ("c = df.copy()", {group("c", "df")}),  # a shallow copy shares its items (a list's copy)
        ("n = len(df)", set()),
        ("x = rng.normal()", set()),  # a draw is a new value, not the generator
        ("pick = rng.choice(frames)", {group("pick", "frames")}),
        ("m = model.fit(X)", {group("m", "model", "X")}),  # fit returns the model; X: unknown here
        ("m = df.mean()", set()),
        ("e = np.zeros(3)", set()),
        # stores into a container, containers filled by methods, augmented assignment, loops, with
        ("box['k'] = df", {group("box", "df")}),
        ("obj.attr = df", {group("obj", "df")}),
        ("lst.append(df)", {group("lst", "df")}),
        ("lst.extend([a, b])", {group("lst", "a", "b")}),
        ("lst += [a]", {group("lst", "a")}),
        ("for d in data:\n    d['y'] = 1", {group("d", "data")}),
        ("with open_thing(h) as f:\n    pass", {group("f", "h")}),
        ("if (z := a):\n    pass", {group("z", "a")}),
        ("if flag:\n    frames = [df]\nelse:\n    frames = []", {group("frames", "df")}),
        # read-only calls and plain computations create nothing
        ("print(a, b)", set()),
        ("total = a - 1", set()),
        ("both = a + b", {group("both", "a", "b")}),  # lists: a new list of the same items
        ("helper(box, df)", {group("box", "df")}),
        ("setattr(obj, 'a', df)", {group("obj", "df")}),
        ("label = f'{a}'", set()),
        # code is not a value: modules, functions and classes do not share objects
        ("import numpy as np2\nx = np2", set()),
        ("def f():\n    pass\ng = f", set()),
        ("p = np", set()),
        ("q = list", set()),
    ],
)
def test_relations_a_cell_creates(source: str, expected: set[frozenset[str]]) -> None:
    assert shares(source) == expected


def test_relations_chain_into_one_group() -> None:
    assert shares("d = df\nbox = [d]\nother = [x]") == {group("d", "df", "box"), group("other", "x")}


def test_names_local_to_a_function_are_not_module_names() -> None:
    assert shares("def f(v):\n    local = [v, df]\n    return local\nf(1)") == set()


def relations(source: str) -> set[tuple[frozenset[str], frozenset[str]]]:
    return set(analyze_cell(source, cell="c", outside_code=OUTSIDE).shares)


def test_a_new_value_may_be_made_of_the_old_one_of_the_same_name() -> None:
    # targets, and the names whose values (when the cell used them) the targets may share objects with
    assert relations("a = a[1:]") == {(group("a"), group("a"))}
    assert relations("lst += [x]") == {(group("lst"), group("lst", "x"))}
    assert relations("c = [a, a]\na = [a, c]") == {(group("c"), group("a")), (group("a"), group("a", "c"))}
    assert relations("a = np.zeros(2)") == set()
    # a container stored into is the value it had then (the cell may rebind the name afterwards)
    assert relations("a.append(c)\na = [c]") == {(group("a"), group("a", "c")), (group("a"), group("c"))}
    assert relations("box['k'] = df") == {(group("box"), group("box", "df"))}


def _fresh(source: str) -> bool:
    import ast as _ast

    from jupyter_mlops.analysis.alias_groups import returns_fresh

    node = _ast.parse(source).body[0]
    assert isinstance(node, _ast.FunctionDef)
    return returns_fresh(node, import_paths={"np": "numpy"})


def test_returns_fresh_tells_values_a_function_made_from_ones_it_was_given() -> None:
    fresh = [
        "def f(x):\n    w = np.zeros(3)\n    w -= x.sum()\n    return w\n",
        "def f(x):\n    print(x)\n",
        "def f(x):\n    return len(x) * 2\n",
        "def f(x, y):\n    out = []\n    for v in range(3):\n        out.append(v)\n    return out\n",
    ]
    shared = [
        "def f(x):\n    return x\n",
        "def f(x):\n    return x[1:]\n",
        "def f(x):\n    w = [x]\n    return w\n",
        "def f(x):\n    out = []\n    out.append(x)\n    return out\n",
        "def f(x):\n    for v in x:\n        last = v\n    return last\n",
        "def f(x):\n    return CACHE\n",
        "def f(x):\n    def g():\n        return x\n    return g\n",
        "def f(x):\n    yield 1\n",
        "def f(x):\n    return other(x)\n",
    ]
    assert [_fresh(s) for s in fresh] == [True] * len(fresh)
    assert [_fresh(s) for s in shared] == [False] * len(shared)

"""Which values cross steps as KFP parameters: only scalars whose type the code shows for certain."""

from __future__ import annotations

import ast

import pytest

from jupyter_mlops.analysis.value_kinds import ARTIFACT, bindings, import_statements, output_kind


def kind(source: str, name: str = "v", shadowed=()) -> str:
    return output_kind(ast.parse(source), name, set(shadowed))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("v = 3", "int"),
        ("v = 3.5", "float"),
        ("v = True", "bool"),
        ("v = 'x'", "str"),
        ("v = f'{a}-{b}'", "str"),
        ("v = float(a.mean())", "float"),
        ("v = int(s)", "int"),
        ("v = len(items)", "int"),
        ("v = round(x)", "int"),
        ("v: float = a / b", "float"),
        ("v = 1\nv += 2", "int"),
        ("if c:\n    v = 1\nelse:\n    v = 2", "int"),
    ],
)
def test_parameter_kinds(source, expected):
    assert kind(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "v = a / b",  # the type depends on a and b
        "v = None",
        "v = (1, 2)",  # a tuple would come back as a list: keep it as it is
        "v = round(x, 2)",
        "v = {'a': x}",  # x's type is unknown
        "v = {1: 'a'}",  # JSON keys are strings
        "v = {**base}",
        "v = np.zeros(3)",
        "v = 1\nv = 'a'",  # two kinds
        "v = {'a': 1}\nv['b'] = obj",  # mutated after: may hold anything
        "for v in range(3):\n    pass",
        "import v",
        "with open(p) as v:\n    pass",
        "v = []\nv += other",
        "x = 1",  # not bound here at all (an input passed through)
        # Lists and dicts are artifacts: filled later with anything, and KFP makes their ints floats.
        "v = [1, 'a', 2.0]",
        "v = {'a': 1, 'b': [str(x)]}",
        "v: dict[str, int] = build()",
        "v = []\nv.append(np.float64(1))",
        "v = 1\nv = 2.5",  # int or float, depending on the path: not one type
        "v = 2**53 + 1 if x else 0",
        "v = 9007199254740993",  # 2**53 + 1: KFP would carry it as a double, 9007199254740992
        "if c:\n    v = 1\nelse:\n    v = 2.5",
        "v = 1\ndef f():\n    global v\n    v = 'a'\nf()",  # a function may rebind it
    ],
)
def test_unknown_kinds_are_artifacts(source):
    assert kind(source) == ARTIFACT


def test_shadowed_builtins_are_not_trusted():
    assert kind("v = float(x)", shadowed={"float"}) == ARTIFACT


def test_bindings_and_import_statements():
    tree = ast.parse("import numpy as np, os\nfrom a.b import c as d\ndef f(): pass\nclass K: pass\nx = 1\n")
    how = bindings(tree)
    assert (
        how["np"] == {"import"} and how["d"] == {"import"} and how["f"] == {"def"} and how["K"] == {"class"}
    )
    assert how["x"] == {"assign"}
    assert import_statements(tree, {"np", "d"}) == {"np": "import numpy as np", "d": "from a.b import c as d"}

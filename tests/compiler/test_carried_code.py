"""A function or class an earlier step defines travels, as code, to the steps that use it (as the
kernel keeps it for later cells): what it reads comes from where the kernel would take it, what it
changes is passed on, and the defining step may store objects of its classes
(analysis/carried_code.py). The runs themselves: tests/executor/test_carried_code_runs.py."""

from __future__ import annotations

import pytest

from jupyter_mlops.compiler.planner import describe, plan_pipeline
from jupyter_mlops.errors import CellError
from jupyter_mlops.notebook.workspace import Workspace


def plan(*cells: tuple[str, str], setup: str | None = None):  # type: ignore[no-untyped-def]
    w = Workspace("carried")
    if setup is not None:
        w.define_setup("", setup)
    for line, body in cells:
        w.define_component(line, body)
    return plan_pipeline(w.active)


MAKE = (
    "import json\n"  # line 2
    "SCALE = 3\n"
    "def scaled(v):\n"
    "    return v * SCALE\n"
    "def report(v):\n"
    "    return json.dumps(scaled(v))\n"
)


def test_a_function_travels_with_what_it_needs() -> None:
    p = plan(("make", MAKE), ("use", "x = 1\nout = report(2)\n"))
    use = p.step("use")
    # its code, and the code it calls, in the defining cell's order, with the user's line numbers
    # its code and the code it calls, in the defining cell's order, with the user's line numbers, after
    # the imports it needs (a base class or a decorator is needed when the definition runs)
    assert use.carried == (
        (
            "make",
            "import json\ndef scaled(v):\n    return v * SCALE\n"
            "def report(v):\n    return json.dumps(scaled(v))\n",
            (2, 4, 5, 6, 7),
        ),
    )
    assert use.inputs == {"SCALE": ("make", "int")}  # a value it reads: data, from where it was bound
    assert use.source.startswith("import json\n")  # an import it needs: re-imported
    assert p.edges == [("make", "use", "SCALE")]
    assert (
        "use, line 3: uses `scaled`, `report` from step 'make': that code runs in this step too"
        in "\n".join(map(str, p.notes))
    )


def test_what_a_function_reads_comes_from_the_latest_step_binding_it() -> None:
    p = plan(("make", MAKE), ("tune", "SCALE = 10\n"), ("use", "out = scaled(2)\n"))
    assert p.step("use").inputs == {"SCALE": ("tune", "int")}


def test_what_a_called_function_changes_is_passed_on() -> None:
    make = "items = [1]\ndef add(x):\n    items.append(x)\n"
    p = plan(("make", make), ("more", "add(2)\n"), ("use", "print(items)\n"))
    assert p.step("more").inputs == {"items": ("make", "artifact")}
    assert p.step("use").inputs == {"items": ("more", "artifact")}
    rebind = "total = 0\ndef bump():\n    global total\n    total += 5\n"
    p = plan(("make", rebind), ("more", "bump()\n"), ("use", "print(total)\n"))
    assert p.step("use").inputs["total"][0] == "more"


def test_an_instances_class_travels_and_its_step_may_store_it() -> None:
    make = "class Acc:\n    def __init__(self):\n        self.total = 0\nacc = Acc()\n"
    p = plan(("make", make), ("use", "print(acc.total)\n"))
    assert [(origin, text.splitlines()[0]) for origin, text, _ in p.step("use").carried] == [
        ("make", "class Acc:")
    ]
    assert p.step("make").shared == frozenset({"Acc"})
    assert p.step("use").inputs == {"acc": ("make", "artifact")}
    assert [str(n) for n in p.notes] == [
        "use: its inputs may hold objects of class `Acc` of step 'make': that code runs in this step too"
    ]


def test_classes_travel_with_stored_values_that_may_hold_their_objects() -> None:
    make = (
        "import dataclasses\n"
        "@dataclasses.dataclass\n"
        "class Point:\n"
        "    x: float\n"
        "class Needs:\n"
        "    def f(self):\n"
        "        return LIMIT\n"  # a value of its cell: it does not travel unless read by name
        "LIMIT = 2\n"
        "pts = [Point(i) for i in range(3)]\n"
    )
    p = plan(("make", make), ("move", "more = pts + [Point(9)]\n"), ("use", "print(more)\n"))
    move, use = p.step("move"), p.step("use")
    assert [d[0] for d in move.carried] == ["make"] and "class Point:" in move.carried[0][1]
    assert "class Needs" not in move.carried[0][1]
    assert move.source.startswith("import dataclasses\n")
    # through the middle step: `more` holds Points that step `use` must be able to load
    assert [d[0] for d in use.carried] == ["make"] and "class Point:" in use.carried[0][1]
    assert p.step("make").shared == frozenset({"Point"}) and move.shared == frozenset({"Point"})
    # a value of JSON kind holds no objects: nothing travels for it
    assert plan(("make", make + "n = 3\n"), ("use", "print(n)\n")).step("use").carried == ()


def test_code_that_cannot_travel_is_still_a_compile_error() -> None:
    with pytest.raises(CellError) as raised:
        plan(("make", "if True:\n    def f():\n        return 1\n"), ("use", "f()\n"))
    assert str(raised.value) == (
        "cell use, line 2: uses 'f', a function defined in step 'make' where its code cannot travel to "
        "later steps (inside an `if`, a loop or a `try`, or bound to something else too). Define it once at "
        "the top level of that cell, or in the %%pipeline setup cell."
    )
    with pytest.raises(CellError, match="a lambda defined in step 'make'"):
        plan(("make", "f = lambda: 1\n"), ("use", "f()\n"))


def test_a_step_with_its_own_definition_carries_nothing() -> None:
    p = plan(("make", MAKE), ("use", "def scaled(v):\n    return v\nout = scaled(2)\n"))
    assert p.step("use").carried == () and p.step("use").inputs == {}


def test_describe_and_compile_of_a_pipeline_without_carried_code_are_unchanged() -> None:
    p = plan(("make", "x = 1\n"), ("use", "print(x)\n"))
    assert all(s.carried == () and s.shared == frozenset() for s in p.steps)
    assert describe(p)["notes"] == []


def test_a_class_name_defined_again_later_is_not_taken_for_the_earlier_one() -> None:
    # Step `b` carries the latest `Foo` (step q's); step a's `f` is an object of a's own `Foo`, which no
    # later step has: a may not store it as loadable (its run fails there, saying so), rather than `b`
    # loading it as q's class.
    p = plan(
        ("a", "class Foo:\n    pass\nf = Foo()\n"),
        ("q", "class Foo:\n    v = 2\ng = Foo()\n"),
        ("b", "print(f, g)\n"),
    )
    assert [origin for origin, _, _ in p.step("b").carried] == ["q"]
    assert p.step("a").shared == frozenset() and p.step("q").shared == frozenset({"Foo"})


def test_a_class_made_by_a_factory_call_travels_like_a_class_statement() -> None:
    # `Point = namedtuple(...)` in a step is a class, as `class Point(NamedTuple)` is: later steps that
    # use it, or load a value holding its objects, run that line first (it failed where p0 was stored).
    make = (
        "from collections import namedtuple\n"  # line 2
        "import enum\n"
        "Point = namedtuple('Point', ['x', 'y'])\n"
        "Color = enum.Enum('Color', 'RED GREEN')\n"
        "p0 = Point(1, 2)\n"
    )
    p = plan(("make", make), ("use", "p = Point(3, 4)\nc = Color.RED\n"), ("last", "print(p0, p, c)\n"))
    use, last = p.step("use"), p.step("last")
    assert use.carried == (
        (
            "make",
            "import enum\nfrom collections import namedtuple\nPoint = namedtuple('Point', ['x', 'y'])\n"
            "Color = enum.Enum('Color', 'RED GREEN')\n",
            (3, 2, 4, 5),
        ),
    )
    assert "Point" not in use.inputs and "Color" not in use.inputs  # code, not data
    assert set(use.outputs) == {"p", "c"}  # calling Point(...) changes no Point
    assert [origin for origin, _, _ in last.carried] == ["make"] and "namedtuple(" in last.carried[0][1]
    assert p.step("make").shared == frozenset({"Point", "Color"})
    assert p.step("make").outputs == {"p0": "artifact"}


def test_a_factory_class_bound_otherwise_too_does_not_travel() -> None:
    make = "from collections import namedtuple\nP = namedtuple('P', 'a')\nif True:\n    P = dict\n"
    p = plan(("make", make), ("use", "print(P(a=1))\n"))  # a value (here `dict`): data, as before
    assert p.step("use").carried == () and p.step("use").inputs == {"P": ("make", "artifact")}
    # `type(x)` with one argument makes no class
    p = plan(("make", "k = type(3)\n"), ("use", "print(k)\n"))
    assert p.step("use").carried == () and p.step("use").inputs == {"k": ("make", "artifact")}


def test_functions_a_stored_value_may_hold_travel_with_it() -> None:
    # `transforms` holds make's functions: a step loading it (directly, or through a step that passed it
    # on) needs them defined first; make may store it (its `shared`). Before, make failed where it stored
    # `transforms` ("refers to the function 'square', defined in this step").
    make = (
        "def square(x):\n    return x * x\n"
        "def cube(x):\n    return x ** 3\n"
        "def unused(x):\n    return x\n"
        "transforms = {'sq': square, 'cube': cube}\n"
        "n = unused(2)\n"
    )
    p = plan(
        ("make", make),
        ("keep", "fns = list(transforms.values())\n"),
        ("apply", "vals = [f(3) for f in fns]\n"),
    )
    keep, apply = p.step("keep"), p.step("apply")
    assert [o for o, _, _ in keep.carried] == ["make"]
    assert "def square" in keep.carried[0][1] and "def cube" in keep.carried[0][1]
    assert "def unused" not in keep.carried[0][1]  # only called, never stored: not held
    assert [o for o, _, _ in apply.carried] == ["make"] and "def cube" in apply.carried[0][1]
    assert p.step("make").shared == frozenset({"square", "cube"})
    assert keep.shared == frozenset({"square", "cube"})  # what it passes on holds them too
    # a function only called in its step is no value: readers of that step's data carry nothing
    q = plan(("make", "def f(x):\n    return x\ny = [f(1)]\n"), ("use", "print(y)\n"))
    assert q.step("use").carried == () and q.step("make").shared == frozenset()


def test_a_factory_class_made_from_a_value_of_its_cell_is_a_compile_error() -> None:
    # Carried code runs before the step's inputs load: `namedtuple("Point", fields)` would not find
    # `fields` there (it failed at run time: "name 'fields' is not defined"). Said at compile time.
    make = "from collections import namedtuple\nfields = ['x', 'y']\nPoint = namedtuple('Point', fields)\n"
    with pytest.raises(CellError, match="'p0', an instance of class 'Point' defined in step 'make'"):
        plan(("make", make + "p0 = Point(1, 2)\n"), ("use", "print(p0)\n"))


def test_attributes_set_right_after_a_definition_travel_with_it() -> None:
    # `tally.seen = []` after `def tally` was "bound to something else too": a compile error naming it
    make = (
        "def tally(x):\n    tally.seen.append(x)\n    return len(tally.seen)\ntally.seen = []\n"
        "class Model:\n    pass\nModel.defaults = {'lr': 0.1}\nModel.defaults['lr'] *= 2\n"
    )
    p = plan(("make", make), ("use", "n = tally(7)\nlr = Model.defaults['lr']\n"))
    ((origin, text, lines),) = p.step("use").carried
    assert origin == "make" and "tally.seen = []\n" in text and "Model.defaults['lr'] *= 2\n" in text
    assert lines == (2, 3, 4, 5, 6, 7, 8, 9)
    # set elsewhere in the cell too (not right after): not followed, as before
    with pytest.raises(CellError, match="uses 'tally', a function defined in step 'make'"):
        plan(("make", make + "x = 1\ntally.seen = [0]\n"), ("use", "n = tally(7)\n"))

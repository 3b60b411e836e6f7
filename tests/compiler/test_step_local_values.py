"""A value made from code its own step defines where that code cannot travel with it: the step's
function or class itself as a value where it is not a top-level definition, a lambda, a generator, an
open file. The compile says so, naming
the cell and line that read it and what to do, instead of the run failing when the step stores it
(tests/executor: the run-time error for the cases the code does not show). An instance of a class the
step defines is loadable, and so is its top-level function or class as a value: the code travels to the
reading step (tests/compiler/test_carried_code.py).
"""

from __future__ import annotations

import pytest

from jupyter_mlops.compiler.planner import plan_pipeline
from jupyter_mlops.errors import CellError
from jupyter_mlops.notebook.workspace import Workspace

MAKE = (
    "from dataclasses import dataclass\n"
    "@dataclass\n"
    "class Summary:\n"
    "    rows: int\n"
    "def helper(x):\n"
    "    return x + 1\n"
    "summary = Summary(3)\n"
    "if summary.rows > 2:\n"
    "    summary = Summary(4)\n"
    "f = helper\n"
    "kind = Summary\n"
    "total = helper(2)\n"
)


def workspace(make: str, use: str, setup: str | None = None) -> Workspace:
    w = Workspace("local")
    if setup is not None:
        w.define_setup("", setup)
    w.define_component("make", make)
    w.define_component("use", use)
    return w


def test_its_steps_own_class_or_function_as_a_value_travels_with_the_reader() -> None:
    # `f = helper`, `kind = Summary`: the code travels with the step that loads them, as an instance's
    # class does (this was a compile error: "uses 'f', the function 'helper' defined in step 'make'").
    use = "print(total)\nprint(summary.rows)\nprint(f(1), kind)\n"
    plan = plan_pipeline(workspace(MAKE, use).active)
    step = plan.step("use")
    assert set(step.inputs) == {"total", "summary", "f", "kind"}
    assert [origin for origin, _, _ in step.carried] == ["make"]
    assert "def helper" in step.carried[0][1] and "class Summary" in step.carried[0][1]
    assert plan.step("make").shared == frozenset({"helper", "Summary"})


def test_its_steps_function_that_cannot_travel_is_still_a_compile_error() -> None:
    make = "if True:\n    def helper(x):\n        return x\nf = helper\n"
    with pytest.raises(CellError) as raised:
        plan_pipeline(workspace(make, "print(f(1))\n").active)
    assert (raised.value.cell, raised.value.line) == ("use", 2)
    assert "uses 'f', the function 'helper' defined in step 'make'" in str(raised.value)
    assert "Move that definition into the %%pipeline setup cell" in str(raised.value)


def test_values_that_may_be_loadable_are_not_reported() -> None:
    setup = "from dataclasses import dataclass\n@dataclass\nclass Summary:\n    rows: int\n"
    made_elsewhere = "class Local:\n    pass\nsummary = Summary(3)\nvalue = Local()\nvalue = 5\n"
    plan = plan_pipeline(workspace(made_elsewhere, "print(summary.rows, value)\n", setup).active)
    assert set(plan.step("use").inputs) == {"summary", "value"}
    # a class of the setup cell defined again in the step: the setup's one is there to load it
    again = "@dataclass\nclass Summary:\n    rows: int\nsummary = Summary(3)\n"
    plan = plan_pipeline(workspace(again, "print(summary.rows)\n", setup).active)
    assert set(plan.step("use").inputs) == {"summary"}


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (
            "tokenize = lambda s: s.split()\n",
            "uses 'tokenize', a lambda defined in step 'make': a later step cannot load it (steps pass "
            "data, not code). Make it a def in the %%pipeline setup cell",
        ),
        (
            "rows = (r * 2 for r in range(3))\n",
            "uses 'rows', a generator made in step 'make': it cannot be stored for a later step. Make "
            "it a list (`list(...)`) in step 'make', or make the generator in the step that uses it",
        ),
        (
            "fh = open('data.txt')\n",
            "uses 'fh', a file opened in step 'make': an open file cannot be stored for a later step. "
            "Read what you need in step 'make', or open the file in the step that uses it",
        ),
        (
            "import gzip\nfh = gzip.open('data.txt.gz', 'rt')\n",
            "uses 'fh', a file opened in step 'make'",
        ),
    ],
)
def test_a_lambda_generator_or_open_file_read_by_a_later_step_is_a_compile_error(
    make: str, said: str
) -> None:
    name = said.split("'")[1]
    with pytest.raises(CellError) as raised:  # one problem: the error itself
        plan_pipeline(workspace(make, f"x = 1\nprint({name})\n").active)
    assert (raised.value.cell, raised.value.line) == ("use", 3)
    assert said in str(raised.value)


def test_lambdas_generators_and_files_that_may_be_storable_are_not_reported() -> None:
    made = (
        "rows = (r for r in range(3))\nrows = list(rows)\n"  # rebound to a list before the step ends
        "key = lambda s: s\nkey = len\n"  # the builtin crosses as a reference
        "with open('data.txt', 'w') as fh:\n    fh.write('x')\n"  # a closed file: a `with` target
    )
    plan = plan_pipeline(workspace(made, "print(rows, key)\n").active)
    assert set(plan.step("use").inputs) == {"rows", "key"}

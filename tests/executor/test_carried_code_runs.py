"""Runs of notebooks whose later cells use the functions and classes of earlier `%%component` cells:
the code travels with the steps that use it (analysis/carried_code.py), and each step computes what
the kernel computed, on our engine and on kfp.local alike; an error inside carried code names the
cell and line that define it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from jupyter_mlops.compiler import compile_yaml
from jupyter_mlops.models import RunState, StepState

from .conftest import Runner
from .notebook_cells import compiled, notebook_pipeline

SETUP = "%%pipeline setup\nimport dataclasses\n"

MAKE = """%%component make
import json
SCALE = 3
items = [1, 2, 3]


def scaled(v):
    return v * SCALE


def add(x):
    items.append(x)


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Acc:
    def __init__(self):
        self.total = 0

    def take(self, v):
        self.total += scaled(v)


acc = Acc()
acc.take(2)
points = [Point(i, scaled(i)) for i in range(3)]
"""

MORE = """%%component more
SCALE = 10
add(4)
points = points + [Point(9, 9)]
"""

USE = """%%component use
acc.take(1)
assert acc.total == 6 + 10, acc.total  # make's 2 * 3, then this step's 1 * 10 (SCALE from step more)
assert items == [1, 2, 3, 4], items  # step more's call of make's add() changed it
assert [dataclasses.astuple(p) for p in points] == [(0, 0), (1, 3), (2, 6), (9, 9)], points
assert type(acc).__name__ == "Acc" and type(points[0]).__module__ == "__main__"
print("carried ok", json.dumps(scaled(2)))
"""


def test_functions_and_classes_of_earlier_steps_run_where_they_are_used(run_pipeline: Runner) -> None:
    run = run_pipeline(compiled([SETUP, MAKE, MORE, USE]))
    assert run.state == RunState.SUCCEEDED, (run.error, run.listener.log("use")[-2000:])
    assert "carried ok 20" in run.listener.log("use")


def test_an_error_inside_carried_code_names_the_cell_and_line_defining_it(run_pipeline: Runner) -> None:
    make = (
        "%%component make\nLIMIT = 2\n\n\ndef check(v):\n    if v > LIMIT:\n"
        "        raise ValueError(f'{v} is over {LIMIT}')\n    return v\n"
    )
    run = run_pipeline(compiled([make, "%%component use\nx = check(1)\ny = check(5)\n"]))
    assert run.state == RunState.FAILED
    use = run.step("use")
    assert use.state == StepState.FAILED
    assert use.error is not None and "ValueError: 5 is over 2 (cell make, line 7)" in use.error, use.error
    log = run.listener.log("use")
    assert 'File "<cell use>", line 3' in log and 'File "<cell make>", line 7, in check' in log, log[-2000:]
    assert "raise ValueError(f'{v} is over {LIMIT}')" in log  # the defining cell's line, shown


def test_kfp_local_runs_the_same_yaml(tmp_path: Path) -> None:
    """kfp.local (SubprocessRunner) runs the compiled YAML, and the using step passes the same checks."""
    path = tmp_path / "carried.yaml"
    path.write_text(compile_yaml(notebook_pipeline([SETUP, MAKE, MORE, USE])))
    code = f"""
from kfp import components, local
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root={str(tmp_path / "root")!r})
components.load_component_from_file({str(path)!r})()
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "carried ok 20" in proc.stdout + proc.stderr


def test_a_class_with_an_imported_base_travels_with_a_value_holding_its_objects(run_pipeline: Runner) -> None:
    # The class is not read by name in the later step: the stored dict holds its object; its base class
    # comes from an import of its own cell, needed when the class is defined (before the cell's imports).
    make = (
        "%%component make\nfrom collections import UserDict\n\n\nclass Registry(UserDict):\n"
        "    def names(self):\n        return sorted(self.data)\n\n\nstore = {'main': Registry(b=1, a=2)}\n"
    )
    use = "%%component use\nassert store['main'].names() == ['a', 'b'], store\nprint('registry ok')\n"
    run = run_pipeline(compiled([make, use]))
    assert run.state == RunState.SUCCEEDED, (run.error, run.listener.log("use")[-2000:])
    assert "registry ok" in run.listener.log("use")


def test_classes_made_by_factory_calls_travel(run_pipeline: Runner) -> None:
    # namedtuple, typing.NamedTuple's call form and the functional Enum in one step; a later step makes
    # objects of them and loads the first step's objects (pickled by reference to __main__).
    make = (
        "%%component make\nimport collections\nimport enum\nimport typing\n"
        "Point = collections.namedtuple('Point', 'x y')\n"
        "Emp = typing.NamedTuple('Emp', [('name', str), ('age', int)])\n"
        "Color = enum.Enum('Color', 'RED GREEN')\n"
        "p0, e0 = Point(1, 2), Emp('ann', 30)\n"
    )
    use = (
        "%%component use\np = Point(3, 4)._replace(y=5)\nfavourite = Color['GREEN']\n"
        "assert (p0.x, e0.age, p.y, favourite.value) == (1, 30, 5, 2), (p0, e0, p, favourite)\n"
        "assert type(p0) is Point and type(p).__module__ == '__main__'\nprint('factories ok')\n"
    )
    last = "%%component last\nassert p == Point(3, 5) and favourite is Color.GREEN\nprint('still ok')\n"
    run = run_pipeline(compiled([make, use, last]))
    assert run.state == RunState.SUCCEEDED, (run.error, run.listener.log("use")[-2000:])
    assert "factories ok" in run.listener.log("use") and "still ok" in run.listener.log("last")


def test_a_value_holding_functions_of_a_step_loads_in_later_steps(run_pipeline: Runner) -> None:
    make = (
        "%%component make\ndef square(x):\n    return x * x\n\n\ndef cube(x):\n    return x ** 3\n\n\n"
        "transforms = {'sq': square, 'cube': cube}\nfirst = square\n"
    )
    keep = "%%component keep\nfns = sorted(transforms.values(), key=lambda f: f.__name__)\n"
    apply = (
        "%%component apply\nassert [f(3) for f in fns] == [27, 9], fns\nassert first(2) == 4\n"
        "print('held ok')\n"
    )
    run = run_pipeline(compiled([make, keep, apply]))
    assert run.state == RunState.SUCCEEDED, run.error
    assert "held ok" in run.listener.log("apply")


def test_a_function_or_class_as_a_steps_value_loads_where_its_code_is(run_pipeline: Runner) -> None:
    # `metric = math.hypot` (a library function), `norm = scale` (a setup function), `kind = OrderedDict`:
    # stored by reference, as pickle does, and loaded in the next step. Before, the storing step failed:
    # "'metric' is a function; later steps cannot receive it as data". A module stays refused, saying so.
    setup = (
        "%%pipeline setup\nimport math\nfrom collections import OrderedDict\n\n\n"
        "def scale(x):\n    return 2 * x\n"
    )
    make = "%%component make\nmetric = math.hypot\nnorm = scale\nkind = OrderedDict\n"
    use = (
        "%%component use\nassert (metric(3, 4), norm(5), kind(a=1)['a']) == (5.0, 10, 1)\nprint('refs ok')\n"
    )
    run = run_pipeline(compiled([setup, make, use]))
    assert run.state == RunState.SUCCEEDED, run.error
    assert "refs ok" in run.listener.log("use")
    bad = run_pipeline(compiled([setup, "%%component make\nm = math\n", "%%component use\nprint(m.pi)\n"]))
    assert bad.state == RunState.FAILED
    assert "'m' is a module; later steps cannot receive it as data" in str(bad.error)

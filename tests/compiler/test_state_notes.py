"""A step that changes state the next steps cannot see (a module's settings, a class or function of the
notebook) gets a note: each step runs in a new process that starts from the setup cells, so
`pd.options.display.max_rows = 5`, `plt.rcParams[...] = ...` or `Settings.depth = 7` in one step is
gone in the next, where in the kernel it lasts from cell to cell. Only when a later step uses that
module or class; nothing for setup cells (every step runs them)."""

from __future__ import annotations

from jupyter_mlops.compiler.planner import plan_pipeline
from jupyter_mlops.notebook.workspace import Workspace

SETUP = (
    "import pandas as pd\nimport matplotlib.pyplot as plt\nimport warnings\n"
    "pd.options.display.max_rows = 20\n"  # setup: in every step, no note
    "class Settings:\n    depth = 3\n"
)


def notes(*cells: str, setup: str = SETUP) -> list[tuple[str, int | None, str]]:
    w = Workspace("state")
    w.define_setup("", setup)
    for i, source in enumerate(cells):
        w.define_component(f"s{i}", source)
    return [(n.cell, n.line, n.message) for n in plan_pipeline(w.active).notes]


def test_a_change_of_module_or_class_state_that_a_later_step_uses_gets_a_note() -> None:
    said = notes(
        "x = 1\npd.options.display.max_rows = 5\nplt.rcParams['figure.figsize'] = (10, 4)\n"
        "Settings.depth = 7\npd.set_option('display.width', 200)\n",
        "print(x, Settings.depth)\nplt.plot([x])\npd.DataFrame({'a': [x]})\n",
    )
    lines = {line: message for cell, line, message in said if cell == "s0"}
    assert sorted(lines) == [3, 4, 5, 6], said
    assert lines[3].startswith(
        "`pd.options.display.max_rows = 5` changes the state of module pandas for this step only: later "
        "steps run in new processes that start from the setup cells (in the kernel the change lasts from "
        "cell to cell). Put the line in %%pipeline setup to have it in every step."
    )
    assert "`plt.rcParams['figure.figsize'] = (10, 4)` changes the state of module matplotlib" in lines[4]
    assert lines[5].startswith("`Settings.depth = 7` changes class 'Settings' for this step only")
    assert "`pd.set_option('display.width', 200)` changes the state of module pandas" in lines[6]


def test_no_note_when_no_later_step_uses_it_or_in_setup() -> None:
    assert notes("pd.options.display.max_rows = 5\nx = 1\n", "print(x)\n") == []
    assert notes("x = 1\n", "plt.rcParams['figure.dpi'] = 50\nprint(x)\n") == []  # the last step
    # a value of the notebook changed in place is data: it is passed on, no note
    assert notes("cfg = {'lr': 0.1}\ncfg['lr'] = 0.5\n", "print(cfg)\n") == []


def test_a_change_to_the_steps_process_gets_a_note_when_any_step_comes_later() -> None:
    # The working directory, the import path, the environment, pandas' progress_apply: a later step is
    # affected without naming the module (it opens a relative path, imports from src/, ...).
    setup = "import os\nimport sys\nfrom tqdm.auto import tqdm\n"
    first = "os.chdir('data')\nsys.path.append('src')\nos.environ['MODE'] = 'fast'\ntqdm.pandas()\n"
    said = notes(first, "with open('t.csv') as f:\n    text = f.read()\n", setup=setup)
    lines = {
        line: message for cell, line, message in said if cell == "s0" and "for this step only" in message
    }
    assert sorted(lines) == [2, 3, 4, 5], said
    assert lines[2] == (
        "`os.chdir('data')` changes the working directory for this step only: every step starts in the "
        "notebook's folder (in the kernel the change lasts from cell to cell). In later steps, write paths "
        "from the notebook's folder (`data/train.csv`)."
    )
    assert lines[3].startswith("`sys.path.append('src')` changes where imports are found for this step only")
    assert lines[4].startswith("`os.environ['MODE'] = 'fast'` changes the environment for this step only")
    assert lines[5].startswith("`tqdm.pandas()` changes pandas (progress_apply) for this step only")
    assert all(
        m.endswith("Put the line in %%pipeline setup to have it in every step.")
        for m in lines.values()
        if m != lines[2]
    )
    # the last step: nothing comes after it; in setup: every step runs it
    assert not [m for _, _, m in notes("x = 1\n", first, setup=setup) if "for this step only" in m]
    assert not [
        m for _, _, m in notes("x = 1\n", "y = 2\n", setup=setup + first) if "for this step only" in m
    ]


COUNTER = (
    "class Counter:\n"  # line 2
    "    total = 0\n"
    "    seen = []\n"
    "    def __init__(self, name):\n"
    "        self.name = name\n"
    "        self.own = []\n"
    "        Counter.total += 1\n"
    "    def bump(self, x):\n"
    "        self.seen.append(x)\n"
    "        self.own.append(x)\n"
    "    @classmethod\n"
    "    def reset(cls):\n"
    "        cls.total = 0\n"
    "    def mine(self, x):\n"
    "        self.own.append(x)\n"  # the object's own list: a value, passed on
    "        self.count = x\n"
    "c = Counter('a')\n"  # line 18
    "c.bump(3)\n"
    "c.mine(4)\n"
)


def test_a_method_call_changing_its_class_gets_a_note_when_a_later_step_uses_the_class() -> None:
    # `Counter.total += 1` in __init__, `self.seen.append` on the class's list, `cls.total = 0`: in the
    # kernel the class keeps the change for later cells; a later step gets the class as its cell defines it.
    said = notes(COUNTER, "c.bump(5)\nCounter.reset()\nk = Counter.total\n", "print(k, c.seen)\n", setup="")
    lines = {(cell, line): message for cell, line, message in said if "itself" in message}
    assert sorted(lines) == [("s0", 18), ("s0", 19), ("s1", 2), ("s1", 3)], said
    assert lines[("s0", 18)] == (
        "`Counter('a')` may change class 'Counter' itself (`Counter.total += 1`) for this step only: later "
        "steps run in new processes and get 'Counter' as its cell defines it (in the kernel the change lasts "
        "from cell to cell). Keep such state on the object (`self.total`, set in `__init__`) or in a "
        "variable that later steps read."
    )
    assert "`c.bump(3)` may change class 'Counter' itself (`self.seen.append(x)`)" in lines[("s0", 19)]
    assert "`Counter.reset()` may change class 'Counter' itself (`cls.total = 0`)" in lines[("s1", 3)]
    # the statements inside the class are not changes of the step that defines it (they run when called)
    assert not [m for cell, line, m in said if line in (8, 14)], said


def test_no_class_note_without_a_later_user_or_for_an_objects_own_state() -> None:
    assert [m for _, _, m in notes(COUNTER, "print(1)\n", setup="") if "itself" in m] == []
    mine = COUNTER.replace("c.bump(3)\n", "")
    # a later step using only the object's own attributes does not see the class's state
    assert [m for _, _, m in notes(mine, "print(c.own, c.name)\n", setup="") if "itself" in m] == []
    assert [m for _, _, m in notes(mine, "print(Counter.total)\n", setup="") if "itself" in m] == [
        "`Counter('a')` may change class 'Counter' itself (`Counter.total += 1`) for this step only: later "
        "steps run in new processes and get 'Counter' as its cell defines it (in the kernel the change lasts "
        "from cell to cell). Keep such state on the object (`self.total`, set in `__init__`) or in a "
        "variable that later steps read."
    ]
    # a setup class whose objects each get their own list: no note
    setup = "class Bag:\n    items = []\n    def __init__(self):\n        self.items = []\n"
    setup += "    def add(self, x):\n        self.items.append(x)\n"
    assert [m for _, _, m in notes("b = Bag()\nb.add(1)\n", "print(b.items)\n", setup=setup)] == []


def test_a_call_changing_what_a_class_holds_gets_a_note() -> None:
    # `Registry.items.append(x)` in a step: the setup's class keeps its empty list in later steps
    setup = "class Registry:\n    items = []\n    @classmethod\n    def load(cls):\n        return 1\n"
    said = notes(
        "Registry.items.append(3)\nn = Registry.items.count(3)\nRegistry.load()\nx = 1\n",
        "print(Registry.items, x)\n",
        setup=setup,
    )
    assert [(line, m.split(" for this step")[0]) for _, line, m in said] == [
        (2, "`Registry.items.append(3)` changes class 'Registry'")
    ]
    assert "get 'Registry' as its cell defines it" in said[0][2]


def test_a_call_of_a_function_changing_its_own_attributes_gets_a_note_when_a_later_step_uses_it() -> None:
    # A counting decorator (its wrapper does `wrapper.calls += 1`) in one step, used in the next: in the
    # kernel `fact.calls` counts every call from cell to cell; a step gets `fact` afresh.
    tools = (
        "import functools\n"
        "def counted(fn):\n"
        "    @functools.wraps(fn)\n"
        "    def wrapper(*args):\n"
        "        wrapper.calls += 1\n"
        "        return fn(*args)\n"
        "    wrapper.calls = 0\n"
        "    return wrapper\n"
    )
    setup = "def tally(x):\n    tally.seen.append(x)\ntally.seen = []\n"
    use = "@counted\ndef fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nf5 = fact(5)\ntally(1)\n"
    said = notes(tools, use, "print(fact.calls, tally.seen, f5)\n", setup=setup)
    found = [(cell, line, m.split(" for this step")[0]) for cell, line, m in said if "itself" in m]
    assert found == [
        ("s1", 5, "`fact(5)` may change function 'fact' itself (`wrapper.calls += 1`)"),
        ("s1", 6, "`tally(1)` may change function 'tally' itself (`tally.seen.append(x)`)"),
    ], said
    last = [m for _, _, m in said if "itself" in m][-1]
    assert last.endswith("Keep such state in a variable that later steps read (return it from the function).")
    # calling it later may depend on that state too (`len(tally.seen)`): a note; not using it: none
    assert [m for _, _, m in notes(tools, use, "print(fact(3))\n", setup=setup) if "'fact' itself" in m]
    assert not [m for _, _, m in notes(tools, use, "print(f5)\n", setup=setup) if "itself" in m]


def test_a_cached_functions_cache_read_later_gets_a_note() -> None:
    make = (
        "import functools\n@functools.lru_cache(maxsize=None)\ndef fib(n):\n"
        "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    )
    said = notes(make, "f30 = fib(30)\n", "print(fib.cache_info().hits, f30)\n", setup="")
    assert [(c, line, m.split(" for this step")[0]) for c, line, m in said if "itself" in m] == [
        ("s1", 2, "`fib(30)` may change function 'fib' itself (`@functools.lru_cache(maxsize=None)`)")
    ]

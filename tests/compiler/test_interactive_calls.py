"""A call that waits for a person at the keyboard (`input`, `getpass`, `breakpoint`, `pdb.set_trace`)
gets a compile note: a step has no one to ask, so there it fails (analysis/interactive_calls.py)."""

from __future__ import annotations

from jupyter_mlops.compiler.planner import plan_pipeline
from jupyter_mlops.notebook.workspace import Workspace


def notes(setup: str, *cells: tuple[str, str]) -> list[str]:
    w = Workspace("asks")
    w.define_setup("", setup)
    for name, body in cells:
        w.define_component(name, body)
    return [str(n) for n in plan_pipeline(w.active).notes]


def test_calls_that_wait_for_a_person_are_noted_where_they_are() -> None:
    said = notes(
        "from getpass import getpass\nimport pdb\n",
        ("ask", "name = input('name? ')\nkey = getpass('key: ')\nbreakpoint()\npdb.set_trace()\n"),
        ("use", "print(name, key)\n"),
    )
    asks = (
        "waits for someone to type an answer in the kernel; a step has no one at its keyboard, so there "
        "it fails (EOFError). Make the answer a %%pipeline params value (or read it from a file or "
        "os.environ)."
    )
    debugs = (
        "opens the debugger in the kernel; a step has no one at its keyboard, so there it fails (BdbQuit). "
        "Debug a step's code in the notebook with %pipeline debug RUN STEP."
    )
    assert said == [
        f"ask, line 2: `input('name? ')` {asks}",
        f"ask, line 3: `getpass('key: ')` {asks}",
        f"ask, line 4: `breakpoint()` {debugs}",
        f"ask, line 5: `pdb.set_trace()` {debugs}",
    ]


def test_a_function_of_the_notebook_with_such_a_name_is_not_noted() -> None:
    said = notes(
        "def getpass(prompt):\n    return 'from a file'\n",
        ("own", "def input(p):\n    return 'x'\nv = input('a') + getpass('b')\n"),
        ("use", "print(v, input('again'))\n"),  # the `input` of step own, carried
    )
    assert not [s for s in said if "keyboard" in s], said

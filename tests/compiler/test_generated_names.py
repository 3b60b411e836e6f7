"""The generated component cannot confuse a user's name with its own (issue 9, item 11).

A static property of the module kfp writes for a step (its source, as the compiled IR holds it): the
component function reads its arguments (the user's variables) and no global but the runtime's entry
point, which no argument takes; the runtime functions beside it (at the module's top level, issue 10)
read no name that the module binds otherwise (kfp's imports, the step function's own name) where they
mean a builtin: every global they read is one of theirs or a builtin nothing else binds. Where the step
imports the runtime instead (the default), the name it binds is a local no argument takes.
"""

from __future__ import annotations

import builtins
import keyword
import symtable
import typing

from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_mlops.compiler import compile_documents
from jupyter_mlops.compiler.runtime_source import ENTRY
from jupyter_mlops.notebook.pipeline import Pipeline
from jupyter_mlops.notebook.reader import feed_cell
from jupyter_mlops.notebook.workspace import Workspace

PROVIDED = ("result", "log_metric", "logdir", "mlops")  # names a step has or gives already
identifiers = st.one_of(
    st.sampled_from(sorted(n for n in dir(builtins) if n.isidentifier() and not n.startswith("__"))),
    st.sampled_from(["time", "json", "os", "sys", "types", "ast", "pickle", "linecache", "Any", "Dict",
                     "Optional", "tasks", "configure", "_mlops_runtime", "_mlops_builtins", "_mlops_save",
                     "_mlops_run_step", "_mlops_load"]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True),
).filter(lambda n: not keyword.iskeyword(n) and n not in PROVIDED)  # fmt: skip


def notebook_pipeline(cells: list[str]) -> Pipeline:
    workspace = Workspace("names")
    for index, source in enumerate(cells, start=1):
        feed_cell(workspace, source, f"code cell {index}")
    return workspace.active


def _tables(table: symtable.SymbolTable) -> list[symtable.SymbolTable]:
    return [table, *(t for child in table.get_children() for t in _tables(child))]


def _module_bound() -> set[str]:
    """What the header kfp writes above the functions binds: `import kfp`, `from kfp import dsl`,
    `from kfp.dsl import *`, `from typing import *`."""
    from kfp import dsl

    return {"kfp", "dsl", *dsl.__all__, *typing.__all__}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(identifiers, min_size=1, max_size=6, unique=True),
    st.sampled_from(["eval", "open", "json", "s", "compile", "sorted"]),
)
def test_the_inlined_code_reads_no_argument_and_no_global(names: list[str], step: str) -> None:
    cells = [
        "%%pipeline setup --inline-runtime\n",
        "%%component make\n"
        + "\n".join(f"{n} = [{i}]" if i % 2 else f"{n} = {i}" for i, n in enumerate(names)),
        f"%%component {step}\n" + "\n".join(f"print({n})" for n in names) + "\nlog_metric('m', 1)\nnames = 1",
        "%%component last\nprint(names)",
    ]
    spec = compile_documents(notebook_pipeline(cells))[0]
    source = spec["deploymentSpec"]["executors"][f"exec-{step}"]["container"]["command"][-1]
    module = symtable.symtable(source, "<step>", "exec")
    functions = {t.get_name(): t for t in module.get_children()}
    component = functions.pop(step)
    arguments = set(component.get_parameters())
    assert set(names) <= {a.rstrip("_in") for a in arguments} | arguments
    (entry,) = [n for n in functions if n.startswith(ENTRY)]
    assert entry not in arguments
    read = {s.get_name() for s in component.get_symbols() if s.is_global() and s.is_referenced()}
    assert read - {"__class__"} == {entry}, read  # (an argument `super` makes Python note `__class__`)
    assert not component.get_children()  # nothing nested that could see the arguments
    bound = _module_bound() | {step}
    for table in (t for f in functions.values() for t in _tables(f)):
        globals_read = {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
        mine = globals_read & set(functions)
        assert not (globals_read - mine) & bound, (table.get_name(), globals_read & bound)
        assert all(hasattr(builtins, n) for n in globals_read - mine), (table.get_name(), globals_read)


@settings(max_examples=40, deadline=None)
@given(st.lists(identifiers, min_size=1, max_size=6, unique=True))
def test_the_imported_runtime_takes_a_name_no_argument_has(names: list[str]) -> None:
    cells = [
        "%%component make\n" + "\n".join(f"{n} = {i}" for i, n in enumerate(names)),
        "%%component use\n" + "\n".join(f"print({n})" for n in names) + "\nlog_metric('m', 1)",
    ]
    spec = compile_documents(notebook_pipeline(cells))[0]
    source = spec["deploymentSpec"]["executors"]["exec-use"]["container"]["command"][-1]
    module = symtable.symtable(source, "<step>", "exec")
    (component,) = [t for t in module.get_children() if t.get_name() == "use"]  # nothing else defined
    arguments = set(component.get_parameters())
    imported = {s.get_name() for s in component.get_symbols() if s.is_imported()}
    (entry,) = imported
    assert entry.startswith(ENTRY) and entry not in arguments
    read = {s.get_name() for s in component.get_symbols() if s.is_global() and s.is_referenced()}
    assert read - {"__class__"} == set(), read  # arguments and the imported entry only

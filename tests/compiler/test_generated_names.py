"""The generated component function cannot confuse a user's name with its own (issue 9, item 11).

A static property: for any names a notebook uses, the inlined step code reads none of the component
function's arguments (the user's variables) and no global (kfp's module globals or the step function's
own name): every name it uses is bound inside the wrapper the compiler puts around it.
"""

from __future__ import annotations

import builtins
import keyword
import symtable

from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.compiler.kfp_ir import step_function_source
from jupyter_mlops.notebook.pipeline import Pipeline
from jupyter_mlops.notebook.reader import feed_cell
from jupyter_mlops.notebook.workspace import Workspace

PROVIDED = ("result", "log_metric", "logdir", "mlops")  # names a step has or gives already
identifiers = st.one_of(
    st.sampled_from(sorted(n for n in dir(builtins) if n.isidentifier() and not n.startswith("__"))),
    st.sampled_from(["time", "json", "os", "sys", "types", "ast", "pickle", "linecache", "Any", "Dict",
                     "Optional", "tasks", "configure", "_mlops_runtime", "_mlops_builtins", "_mlops_save"]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True),
).filter(lambda n: not keyword.iskeyword(n) and n not in PROVIDED)  # fmt: skip


def notebook_pipeline(cells: list[str]) -> Pipeline:
    workspace = Workspace("names")
    for index, source in enumerate(cells, start=1):
        feed_cell(workspace, source, f"code cell {index}")
    return workspace.active


def _tables(table: symtable.SymbolTable) -> list[symtable.SymbolTable]:
    return [table, *(t for child in table.get_children() for t in _tables(child))]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(identifiers, min_size=1, max_size=6, unique=True), st.sampled_from(["eval", "open", "json", "s"])
)
def test_the_inlined_code_reads_no_argument_and_no_global(names: list[str], step: str) -> None:
    cells = [
        "%%component make\n"
        + "\n".join(f"{n} = [{i}]" if i % 2 else f"{n} = {i}" for i, n in enumerate(names)),
        f"%%component {step}\n" + "\n".join(f"print({n})" for n in names) + "\nlog_metric('m', 1)\nnames = 1",
        "%%component last\nprint(names)",
    ]
    plan = plan_pipeline(notebook_pipeline(cells))
    source = step_function_source(plan, plan.step(step))
    function = symtable.symtable(source, "<step>", "exec").get_children()[0]
    arguments = set(function.get_parameters())
    assert set(names) <= {a.rstrip("_in") for a in arguments} | arguments
    (runner,) = [t for t in function.get_children() if t.get_name().startswith("_mlops_runtime")]
    assert runner.get_name() not in arguments
    # A name the wrapper's code takes from the component function is free in the wrapper itself.
    assert not runner.get_frees(), runner.get_frees()
    for table in _tables(runner):
        globals_read = [s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()]
        assert not globals_read, (table.get_name(), globals_read)

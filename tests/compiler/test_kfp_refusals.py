"""What kfp's compiler refuses is a one-line error naming the cell, not a traceback from inside kfp
(issue 12, item 16)."""

from __future__ import annotations

import pytest

from jupyter_mlops.compiler import compile_documents
from jupyter_mlops.errors import CellError
from jupyter_mlops.notebook.workspace import Workspace


def compile_cells(name: str, cells: list[tuple[str, str]]) -> None:
    workspace = Workspace(name)
    for line, body in cells:
        workspace.define_component(line, body)
    compile_documents(workspace.active)


@pytest.mark.parametrize(
    ("cells", "cell", "says"),
    [
        (
            [("train --gpu 99999999999999999999999", "x = 1\n")],
            "train",
            "99999999999999999999999 (out of range)",
        ),
        ([("load", "数据 = 1\n"), ("use", "y = 数据 + 1\n")], "load", "'数据'"),
    ],
)
def test_a_kfp_refusal_is_one_line_naming_the_cell(
    cells: list[tuple[str, str]], cell: str, says: str
) -> None:
    with pytest.raises(CellError) as caught:
        compile_cells("refused", cells)
    message = str(caught.value)
    assert message.startswith(f"cell {cell}: ") and says in message and "\n" not in message


def test_a_variable_named_output_crossing_steps_compiles() -> None:
    compile_cells("output", [("a", "Output = 1\n"), ("b", "y = Output + 1\n")])

"""A params cell's `name: Optional[T] = None` (papermill-style parameters cells often hold `None`) is an
optional pipeline parameter of type T: KFP's own `isOptional` with no default, None in the step unless
a run gives it. `name = None` with no type is refused, saying what to write."""

from __future__ import annotations

import pytest

from jupyter_mlops.errors import CellError
from jupyter_mlops.models import RunState
from jupyter_mlops.notebook.pipeline import Param, parse_assignments, parse_params

from .conftest import Runner
from .notebook_cells import compiled, notebook_pipeline


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("checkpoint: Optional[str] = None", "str"),
        ("checkpoint: typing.Optional[int] = None", "int"),
        ("checkpoint: str | None = None", "str"),
        ("checkpoint: None | float = None", "float"),
        ("checkpoint: 'Optional[bool]' = None", "bool"),
        ("checkpoint: str = None", "str"),
        ("checkpoint: list = None", "list"),
        ("checkpoint: Optional[Dict[str, int]] = None", "dict"),
        ("checkpoint: Optional[List[int]] = None", "list"),
    ],
)
def test_a_typed_none_default_is_an_optional_parameter(line: str, kind: str) -> None:
    assert parse_params(line) == {"checkpoint": Param("checkpoint", kind, None)}


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("checkpoint = None", "write `checkpoint: Optional[str] = None`"),
        ("checkpoint: Optional[set] = None", "`Optional[set]` is not a type a pipeline parameter can have"),
        ("checkpoint: Union[int, str] = None", "`Union[int, str]` is not a type"),
    ],
)
def test_a_none_default_without_a_type_says_what_to_write(line: str, said: str) -> None:
    with pytest.raises(CellError) as raised:
        parse_params("a = 1\n" + line, cell="%%pipeline params")
    assert raised.value.line == 3 and said in str(raised.value)


def test_a_run_argument_for_an_optional_parameter_is_typed_by_it() -> None:
    params = "%%pipeline params\nlimit: Optional[int] = None\nname: Optional[str] = None\n"
    pipeline = notebook_pipeline([params])
    assert parse_assignments(["limit=5", "name=run 7"], pipeline) == {"limit": 5, "name": "run 7"}


CELLS = [
    "%%pipeline setup\nfrom typing import Optional\n",
    "%%pipeline params\nlimit: Optional[int] = None\ncheckpoint: Optional[str] = None\nrate = 0.5\n",
    "%%component a\n"
    "rows = list(range(10))[:limit]\n"
    "print('checkpoint', repr(checkpoint), 'rows', len(rows))\n"
    "summary = {'limit': limit, 'checkpoint': checkpoint, 'n': len(rows)}\n",
    "%%component b\nprint('summary', summary)\n",
]


def test_optional_parameters_run_as_none_or_as_given(run_pipeline: Runner) -> None:
    spec = compiled(CELLS)
    root = spec[0]["root"]["inputDefinitions"]["parameters"]
    assert root["limit"] == {"isOptional": True, "parameterType": "NUMBER_INTEGER"}
    assert root["checkpoint"] == {"isOptional": True, "parameterType": "STRING"}
    assert root["rate"]["defaultValue"] == 0.5

    default = run_pipeline(spec, name="default")
    assert default.state == RunState.SUCCEEDED, default.listener.log("a")[-3000:]
    assert "checkpoint None rows 10" in default.listener.log("a")
    assert "{'limit': None, 'checkpoint': None, 'n': 10}" in default.listener.log("b")

    given = run_pipeline(spec, {"limit": 3, "checkpoint": "ck.pt"}, name="given")
    assert given.state == RunState.SUCCEEDED, given.listener.log("a")[-3000:]
    assert "checkpoint 'ck.pt' rows 3" in given.listener.log("a")
    assert "{'limit': 3, 'checkpoint': 'ck.pt', 'n': 3}" in given.listener.log("b")

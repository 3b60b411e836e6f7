"""A run argument that its parameter's type cannot take is refused naming the argument, what it takes and
what was given, in the user's words (not Python's "could not convert string to float" for an integer)."""

from __future__ import annotations

import pytest

from jupyter_mlops.errors import PipelineError
from jupyter_mlops.ir.values import cast_parameter


@pytest.mark.parametrize(
    ("value", "kind", "said"),
    [
        (
            "abc",
            "NUMBER_INTEGER",
            "argument 'n': 'abc' is not a whole number (the parameter is NUMBER_INTEGER)",
        ),
        (2.5, "NUMBER_INTEGER", "argument 'n': 2.5 is not a whole number (the parameter is NUMBER_INTEGER)"),
        ("fast", "NUMBER_DOUBLE", "argument 'n': 'fast' is not a number (the parameter is NUMBER_DOUBLE)"),
        ("yes", "BOOLEAN", "argument 'n': 'yes' is not true or false (the parameter is BOOLEAN)"),
        ("[1, 2", "LIST", "argument 'n': '[1, 2' is not a list (the parameter is LIST)"),
        ("[1, 2]", "STRUCT", "argument 'n': '[1, 2]' is not an object (the parameter is STRUCT)"),
    ],
)
def test_a_value_its_type_cannot_take_is_refused_in_words(value: object, kind: str, said: str) -> None:
    with pytest.raises(PipelineError) as raised:
        cast_parameter(value, kind, "argument 'n'")
    assert str(raised.value) == said


def test_values_a_type_takes_are_converted() -> None:
    assert cast_parameter("3", "NUMBER_INTEGER", "n") == 3 and cast_parameter(4.0, "NUMBER_INTEGER", "n") == 4
    assert (
        cast_parameter("0.5", "NUMBER_DOUBLE", "n") == 0.5 and cast_parameter("True", "BOOLEAN", "n") is True
    )
    assert cast_parameter("[1, 2]", "LIST", "n") == [1, 2] and cast_parameter('{"a": 1}', "STRUCT", "n") == {
        "a": 1
    }

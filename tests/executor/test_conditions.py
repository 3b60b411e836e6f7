"""The CEL subset kfp writes into triggerPolicy.condition, evaluated without eval()."""

import pytest

from jupyter_mlops.errors import PipelineError
from jupyter_mlops.executor.conditions import evaluate

VALUES = {"pipelinechannel--n": 3.0, "pipelinechannel--flag": "yes", "pipelinechannel--ok": True}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("int(inputs.parameter_values['pipelinechannel--n']) > 2", True),
        ("int(inputs.parameter_values['pipelinechannel--n']) == 3", True),
        ("!(int(inputs.parameter_values['pipelinechannel--n']) > 2) && true", False),
        ("double(inputs.parameter_values['pipelinechannel--n']) <= 2.5 || false", False),
        ("inputs.parameter_values['pipelinechannel--flag'] == 'yes'", True),
        ("inputs.parameter_values['pipelinechannel--flag'] != \"yes\"", False),
        ("inputs.parameter_values['pipelinechannel--ok'] == true", True),
        ("string(inputs.parameter_values['pipelinechannel--ok']) == 'true'", True),
        ("(1 < 2) && (2 >= 2) && !(3 != 3)", True),
        ("", True),
    ],
)
def test_conditions_kfp_compiles(condition: str, expected: bool) -> None:
    assert evaluate(condition, VALUES) is expected


@pytest.mark.parametrize(
    "condition",
    [
        "__import__('os').system('true')",
        "inputs.parameter_values['missing'] == 1",
        "int(inputs.parameter_values['pipelinechannel--flag']) > 1",
        "1 >",
    ],
)
def test_anything_else_is_a_clear_error(condition: str) -> None:
    with pytest.raises(PipelineError, match="condition"):
        evaluate(condition, VALUES)

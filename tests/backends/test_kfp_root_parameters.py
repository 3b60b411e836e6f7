"""A listed KFP run's parameters are read with its root's declarations prepared once per spec
(root_parameters.py): the values are those the general reading (`pipeline_arguments`) gives, for every
kind of parameter and every way a run's values can be off, and runs it cannot read the same way fall
back to it."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_mlops.backends.kfp.convert import _root_parameters, summary_of
from jupyter_mlops.backends.kfp.root_parameters import parameters_of, plan_of

ROOT: dict[str, Any] = {
    "dag": {"tasks": {}},
    "inputDefinitions": {
        "parameters": {
            "n": {"parameterType": "NUMBER_INTEGER", "defaultValue": 3.0},
            "lr": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 0.1},
            "name": {"parameterType": "STRING"},
            "flag": {"parameterType": "BOOLEAN", "defaultValue": False},
            "items": {"parameterType": "LIST", "defaultValue": [1, 2]},
            "conf": {"parameterType": "STRUCT", "isOptional": True},
        }
    },
}

GIVEN = [
    {"name": "x"},
    {"name": "x", "n": 5.0, "lr": "0.5", "flag": "true", "items": "[3]", "conf": {"k": 1}},
    {"name": "x", "conf": None},  # optional without a default: null is a value
    {"name": "x", "n": 2.5},  # not a whole number: shown as given
    {"name": "x", "flag": "maybe"},
    {"name": "x", "nope": 1},  # a name the pipeline does not have
    {},  # a required value missing
    {"name": None},
    {"name": "x", "items": {"not": "a list"}},
]


@pytest.mark.parametrize("given", GIVEN)
def test_the_values_are_those_of_the_general_reading(given: dict[str, Any]) -> None:
    plan = plan_of(ROOT)
    assert plan is not None
    expected = _root_parameters(ROOT, dict(given))
    values = parameters_of(plan, dict(given))
    assert (dict(given) if values is None else values) == expected
    if values is not None:
        assert list(values) == list(expected)  # in the root's order, as the general reading gives them


def test_roots_it_does_not_read_the_same_way_have_no_plan() -> None:
    artifacts = {
        "inputDefinitions": {"artifacts": {"data": {"artifactType": {"schemaTitle": "system.Dataset"}}}}
    }
    assert plan_of(artifacts) is None
    bad_default = {
        "inputDefinitions": {"parameters": {"n": {"parameterType": "NUMBER_INTEGER", "defaultValue": "x"}}}
    }
    assert plan_of(bad_default) is None
    # a run giving that parameter a value still reads as the general reading reads it
    spec = {"pipelineInfo": {"name": "p"}, "root": bad_default}
    run = {
        "run_id": "r",
        "state": "SUCCEEDED",
        "pipeline_spec": spec,
        "runtime_config": {"parameters": {"n": 4}},
    }
    assert summary_of(run, "e", {}).parameters == _root_parameters(bad_default, {"n": 4}) == {"n": 4}

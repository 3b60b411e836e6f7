"""Size and shape bombs are refused up front with a 413/400 that names the limit (issue 12, item 4):
a request body over the limit, a YAML whose aliases expand past the limit, nested static loops that
plan too many steps, parameter values too large to store. None of them makes a run."""

from __future__ import annotations

import json
from typing import Any

from backends.pipelines import compiled

from jupyter_mlops.ir import limits

from .bomb_pipelines import echo_pipeline, nested_loops
from .conftest import MlopsApi

# Nine levels of nine aliases: 9**9 values once expanded, from a few hundred bytes.
ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    + "pipelineInfo: {name: bomb}\nroot: {dag: {tasks: {}}}\nbig: *i\n"
)


async def runs_total(api: MlopsApi) -> int:
    page: dict[str, Any] = await api.get("runs")
    return int(page["total"])


async def test_a_request_body_over_the_limit_is_a_413_naming_it(api: MlopsApi) -> None:
    body = json.dumps({"pipeline_yaml": "#" * (limits.MAX_REQUEST_BYTES + 10)})
    code, answer = await api.call("POST", "runs", body)
    assert code == 413 and "MAX_REQUEST_BYTES" in answer["message"]


async def test_a_yaml_alias_bomb_is_a_400_naming_the_limit(api: MlopsApi) -> None:
    assert len(ALIAS_BOMB) < 1000
    code, answer = await api.call("POST", "runs", {"pipeline_yaml": ALIAS_BOMB})
    assert code == 400 and "MAX_YAML_VALUES" in answer["message"] and "aliases" in answer["message"]
    assert await runs_total(api) == 0


async def test_nested_static_loops_over_the_step_limit_are_a_400(api: MlopsApi) -> None:
    code, answer = await api.call("POST", "runs", {"pipeline_yaml": nested_loops(3, limits.MAX_STEPS // 2)})
    assert code == 400 and "MAX_STEPS" in answer["message"]
    assert await runs_total(api) == 0


async def test_parameter_values_over_the_limit_are_a_400(api: MlopsApi) -> None:
    big = "x" * (limits.MAX_PARAMETERS_BYTES + 1)
    code, answer = await api.call(
        "POST", "runs", {"pipeline_yaml": compiled(echo_pipeline), "arguments": {"text": big}}
    )
    assert code == 400 and "MAX_PARAMETERS_BYTES" in answer["message"]
    assert await runs_total(api) == 0

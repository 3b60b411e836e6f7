"""What the step worker loads once, so that no forked step pays for it (issue 15, a 1,000-step pipeline):
kfp's executor reads the type name of every output of a step that returns a NamedTuple (every notebook
step with outputs) with a regular expression it compiles on its first use in a process; compiled in
the worker (and the zygote, which preloads the same way) before it forks, each step finds it ready."""

import functools
from typing import NamedTuple

import pytest
from kfp import dsl

from jupyter_mlops.executor.processes import fork_supported
from jupyter_mlops.models import RunState

from .conftest import Runner

pytestmark = pytest.mark.skipif(not fork_supported(), reason="forked steps (Linux)")
component = functools.partial(dsl.component, base_image="python:3.11")


@component
def compiled_in_the_step() -> NamedTuple("Outputs", [("count", int), ("kind", str)]):  # type: ignore[valid-type]
    """How many regular expressions reading a type name compiles here: 0 when the worker did it."""
    import re
    from collections import namedtuple

    from kfp.dsl.types import type_annotations

    before = len(re._cache)  # type: ignore[attr-defined]
    assert type_annotations.get_short_type_name("typing.List[int]") == "List"
    return namedtuple("Outputs", ["count", "kind"])(len(re._cache) - before, "named")  # type: ignore[attr-defined]


@dsl.pipeline
def one_step() -> int:
    return compiled_in_the_step().outputs["count"]


def test_a_forked_step_finds_kfps_type_name_pattern_compiled(run_pipeline: Runner) -> None:
    result = run_pipeline(one_step, fork=True, cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("compiled-in-the-step") == {"count": 0, "kind": "named"}

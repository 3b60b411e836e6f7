"""Pipelines for tests/server/test_limits.py (no `from __future__ import annotations`: kfp reads the
component signatures' real types)."""

from backends.pipelines import compiled
from kfp import dsl


@dsl.component(base_image="python:3.11")
def noop(x: int) -> None:
    pass


@dsl.component(base_image="python:3.11")
def echo(text: str) -> str:
    return text


def nested_loops(outer: int, inner: int) -> str:
    @dsl.pipeline(name="nested")
    def nested() -> None:
        with dsl.ParallelFor(list(range(outer))), dsl.ParallelFor(list(range(inner))) as j:
            noop(x=j)

    return compiled(nested)


@dsl.pipeline(name="echo")
def echo_pipeline(text: str = "") -> str:
    return echo(text=text).output

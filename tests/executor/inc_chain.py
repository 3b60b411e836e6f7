"""A chain of three steps of one component, for the tests of how a chain's steps start and end
(test_step_end.py, test_held_ends.py). No `from __future__ import annotations`: kfp reads the types."""

import functools

from kfp import dsl

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def inc(x: int) -> int:
    return x + 1


@dsl.pipeline
def chain(x: int = 0) -> int:
    return inc(x=inc(x=inc(x=x).output).output).output

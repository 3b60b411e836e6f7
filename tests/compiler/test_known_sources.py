"""kfp embeds each step's function by reading its source back (`inspect.getsource`, token by token: half
of what `dsl.component` cost a step). The compiler generated that source, one function alone in a
text of its own, so while it has kfp build a pipeline it answers that read itself with the text: the
same string inspect gives (checked against inspect once per process, and by the IR comparison with
kfp's own way in test_linear_compile), without tokenizing 1,000 functions.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from jupyter_mlops.compiler import kfp_sources, plan_pipeline
from jupyter_mlops.compiler.kfp_ir import _build_pipeline, _define

from .test_linear_compile import chain


def test_kfp_does_not_tokenize_the_generated_step_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = 0
    real = inspect.getblock

    def counted(lines: Any) -> Any:
        nonlocal blocks
        blocks += 1
        return real(lines)

    monkeypatch.setattr(inspect, "getblock", counted)
    plan = plan_pipeline(chain(50))
    _build_pipeline(plan)
    assert blocks <= 1, blocks  # (inspect's own reading once per process, to check the text against)
    blocks = 0
    _build_pipeline(plan, remember_names=False)  # kfp's own way reads each one
    assert blocks >= 50, blocks


@pytest.mark.parametrize(
    "source",
    [
        "def f(x: int) -> int:\n    y = x + 1\n    return y\n",
        'def f(a, b=2):\n    """Doc."""\n    return (a +\n            b)\n',
        "def f():\n    return 1\n",
    ],
)
def test_the_text_given_is_the_one_inspect_reads(source: str) -> None:
    function = _define(source, "f", {})
    assert kfp_sources.known_source(function) == inspect.getsource(function) == source


@pytest.mark.parametrize(
    "source",
    [
        "def f():\n    return 1\n# a comment after it\n",  # inspect leaves the comment out
        "def f():\n    return 1\n\n",  # a blank line at the end
        "def f():\n    x = 1\n\n    return x\n",  # a blank line inside
        "def f():\n    return 1",  # no final newline
        "import os\ndef f():\n    return 1\n",  # not the function alone
        "def f():\n    return '''\nnot indented'''\n",  # a line at column 0 inside a string
        "def f():\n    return 1\n    # an indented comment last\n",
    ],
)
def test_a_text_that_is_not_the_function_alone_is_left_to_inspect(source: str) -> None:
    function = _define(source, "f", {})
    assert kfp_sources.known_source(function) is None
    assert inspect.getsource(function)  # kfp reads it as it always did


def test_a_function_defined_elsewhere_is_left_to_inspect() -> None:
    def local(x: int) -> int:
        return x

    assert kfp_sources.known_source(local) is None

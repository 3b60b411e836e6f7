"""The same pipeline gives the same outputs here as under kfp.local (SubprocessRunner, use_venv=False)."""

import functools
from pathlib import Path
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from jupyter_mlops.models import RunState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def split(text: str, words: Output[Dataset]) -> list[str]:
    parts = text.split()
    with open(words.path, "w") as f:
        f.write("\n".join(parts))
    words.metadata["count"] = len(parts)
    return parts


@component
def shout_word(word: str) -> str:
    return word.upper()


@component
def summarize(words: Input[Dataset], loud: list[str], factor: float) -> NamedTuple(
    "Summary", [("count", int), ("score", float), ("joined", str)]
):
    from collections import namedtuple

    with open(words.path) as f:
        lines = f.read().splitlines()
    summary = namedtuple("Summary", ["count", "score", "joined"])
    return summary(len(lines), len(lines) * factor, "-".join(loud))


@component
def verdict(count: int) -> str:
    return "long" if count > 3 else "short"


class Out(NamedTuple):
    count: int
    score: float
    joined: str
    verdict: str
    words: Dataset


@dsl.pipeline
def parity(text: str = "the quick brown fox jumps", factor: float = 1.5) -> Out:
    parts = split(text=text)
    with dsl.ParallelFor(parts.outputs["Output"]) as word:
        loud = shout_word(word=word)
    summary = summarize(words=parts.outputs["words"], loud=dsl.Collected(loud.output), factor=factor)
    judged = verdict(count=summary.outputs["count"])
    return Out(
        summary.outputs["count"],
        summary.outputs["score"],
        summary.outputs["joined"],
        judged.output,
        parts.outputs["words"],
    )


def test_outputs_equal_those_of_kfp_local(run_pipeline: Runner, tmp_path: Path) -> None:
    from kfp import local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "kfp-local"))
    expected = parity(text="a bb ccc dddd", factor=2.0).outputs

    result = run_pipeline(parity, {"text": "a bb ccc dddd", "factor": 2.0})

    assert result.state == RunState.SUCCEEDED, result.error
    summary = result.step("summarize").outputs
    assert summary["count"] == expected["count"] == 4
    assert summary["score"] == expected["score"]
    assert summary["joined"] == expected["joined"] == "A-BB-CCC-DDDD"
    assert result.step("verdict").outputs["Output"] == expected["verdict"]
    words = result.step("split").outputs["words"]
    assert Path(words).read_text() == Path(expected["words"].path).read_text()
    artifact = next(a for a in result.listener.artifacts if a.step == "split")
    assert artifact.metadata == expected["words"].metadata

"""Pipelines written with plain kfp (no magics), used by the backend tests. Importing this imports kfp."""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.
from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Output

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE)
def add(a: int, b: int) -> int:
    print(f"adding {a} and {b}")
    return a + b


@dsl.component(base_image=IMAGE)
def write_lines(count: int, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write("".join(f"line {i}\n" for i in range(count)))
    data.metadata["lines"] = count


@dsl.component(base_image=IMAGE)
def count_lines(data: Input[Dataset], metrics: Output[Metrics]) -> int:
    with open(data.path) as f:
        n = len(f.readlines())
    metrics.log_metric("lines", n)
    return n


@dsl.component(base_image=IMAGE)
def nap(seconds: float) -> str:
    import time

    print("napping", flush=True)
    time.sleep(seconds)
    return "rested"


@dsl.component(base_image=IMAGE)
def explode(message: str) -> int:
    raise ValueError(message)


@dsl.pipeline(name="arith")
def arith(a: int = 1, b: int = 2) -> int:
    first = add(a=a, b=b)
    second = add(a=first.output, b=10)
    return second.output


@dsl.pipeline(name="needs-n")
def needs_n(n: int) -> int:
    return add(a=n, b=n).output


@dsl.pipeline(name="dataset")
def dataset(count: int = 5) -> int:
    written = write_lines(count=count)
    return count_lines(data=written.outputs["data"]).outputs["Output"]


@dsl.pipeline(name="sleepy")
def sleepy(seconds: float = 60.0) -> None:
    first = add(a=1, b=1)
    nap(seconds=seconds).after(first)


@dsl.pipeline(name="failing")
def failing() -> None:
    first = add(a=1, b=1)
    boom = explode(message="the model diverged").after(first)
    add(a=2, b=2).after(boom)


ALL = {"arith": arith, "needs_n": needs_n, "dataset": dataset, "sleepy": sleepy, "failing": failing}


def compiled(pipeline: object) -> str:
    import tempfile
    from pathlib import Path

    from kfp import compiler

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.yaml"
        compiler.Compiler().compile(pipeline, package_path=str(path))
        return path.read_text()

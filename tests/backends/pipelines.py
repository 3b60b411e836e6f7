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


@dsl.component(base_image=IMAGE)
def head(data: Input[Dataset], lines: int) -> str:
    with open(data.path) as f:
        return "".join(f.readlines()[:lines])


@dsl.component(base_image=IMAGE)
def describe(values: list, scale: float, label: str) -> dict:
    return {"label": label, "scaled": [v * scale for v in values], "total": sum(values) * scale}


@dsl.component(base_image=IMAGE)
def train(epochs: int) -> float:
    import jupyter_mlops as mlops  # importable here: the local backend runs steps with this Python

    for i in range(epochs):
        mlops.log_metric("loss", 1.0 / (i + 1), step=i)
    return 1.0 / epochs


@dsl.pipeline(name="report")
def report(count: int = 4, values: list = [1, 2, 3], scale: float = 0.5) -> str:  # noqa: B006
    written = write_lines(count=count)
    counted = count_lines(data=written.outputs["data"])
    describe(values=values, scale=scale, label="x").after(counted)
    return head(data=written.outputs["data"], lines=2).output


@dsl.pipeline(name="training")
def training(epochs: int = 3) -> float:
    return train(epochs=epochs).output


ALL = {
    "arith": arith,
    "needs_n": needs_n,
    "dataset": dataset,
    "sleepy": sleepy,
    "failing": failing,
    "report": report,
    "training": training,
}


def compiled(pipeline: object) -> str:
    import tempfile
    from pathlib import Path

    from kfp import compiler

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.yaml"
        compiler.Compiler().compile(pipeline, package_path=str(path))
        return path.read_text()

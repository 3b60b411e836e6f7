"""kfp pipelines with sub-DAGs of every kind, for tests/compiler/test_linear_dags.py. No `from __future__
import annotations` here: kfp reads the components' annotations as types."""

from typing import Any


def sub_dag_pipelines() -> dict[str, Any]:
    """kfp pipelines with sub-DAGs of every kind, a component used many times, Kubernetes settings."""
    from kfp import dsl, kubernetes

    @dsl.component(base_image="python:3.11")
    def inc(x: int) -> int:
        return x + 1

    @dsl.component(base_image="python:3.11")
    def show(x: int, items: list) -> str:
        return f"{x} {items}"

    @dsl.component(base_image="python:3.11")
    def bye(status: dsl.PipelineTaskFinalStatus) -> str:
        return status.state

    @dsl.pipeline
    def inner(x: int = 1) -> int:
        return inc(x=inc(x=x).output).output

    @dsl.pipeline(name="nested")
    def nested(x: int = 0) -> None:
        exit_task = bye()
        with dsl.ExitHandler(exit_task):
            first = inc(x=x)
            kubernetes.add_node_selector(first, label_key="disk", label_value="ssd")
            with dsl.If(first.output > 1):
                again = inc(x=first.output)
                inc(x=again.output).after(first)
            with dsl.Else():
                inner(x=first.output)
            with dsl.ParallelFor(items=[1, 2, 3]) as item:
                looped = inc(x=item)
                show(x=looped.output, items=[item])
            dsl.importer(artifact_uri="gs://bucket/data", artifact_class=dsl.Dataset, reimport=False)

    @dsl.pipeline(name="reused")
    def reused(x: int = 0) -> None:
        task = inc(x=x)
        for i in range(30):
            task = inc(x=task.output)
            if i % 5 == 0:
                task.set_retry(num_retries=2).set_caching_options(False)
                kubernetes.add_toleration(
                    task, key="gpu", operator="Equal", value="true", effect="NoSchedule"
                )

    return {"nested": nested, "reused": reused}

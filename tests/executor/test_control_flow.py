"""dsl.If/Elif/Else, dsl.ParallelFor (static, over a task's output, with parallelism), nested pipelines."""

import functools

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from jupyter_mlops.executor import plan
from jupyter_mlops.ir.documents import bind_arguments
from jupyter_mlops.models import RunState, StepState

from .conftest import Runner, compile_pipeline

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def number(n: int) -> int:
    return n


@component
def describe(kind: str) -> str:
    return kind


@dsl.pipeline
def branching(n: int = 5):
    value = number(n=n)
    with dsl.If(value.output > 10, name="big"):
        describe(kind="big")
    with dsl.Elif(value.output > 3, name="medium"):
        describe(kind="medium")
    with dsl.Else(name="small"):
        describe(kind="small")


def _taken(result_steps: dict, leaf_prefix: str) -> list:
    return sorted(
        s.outputs["Output"]
        for name, s in result_steps.items()
        if name.startswith(leaf_prefix) and name.count(".") == 2 and s.state == StepState.SUCCEEDED
    )


def test_only_the_branch_whose_condition_holds_runs(run_pipeline: Runner) -> None:
    for n, expected in ((20, "big"), (5, "medium"), (1, "small")):
        result = run_pipeline(branching, {"n": n})
        assert result.state == RunState.SUCCEEDED, result.error
        assert _taken(result.listener.steps, "condition-branches-1.") == [expected]
        leaves = [s for name, s in result.listener.steps.items() if name.count(".") == 2]
        assert sorted(s.state for s in leaves) == [StepState.SKIPPED, StepState.SKIPPED, StepState.SUCCEEDED]


@component
def make_list(n: int) -> list[int]:
    return list(range(1, n + 1))


@component
def square(x: int) -> int:
    return x * x


@component
def total(values: list[int]) -> int:
    return sum(values)


@component
def write(text: str, out: Output[Dataset]):
    with open(out.path, "w") as f:
        f.write(text)


@component
def join(parts: Input[list[Dataset]]) -> str:
    return "+".join(open(p.path).read() for p in parts)


@dsl.pipeline
def loops(n: int = 3):
    numbers = make_list(n=n)
    with dsl.ParallelFor(numbers.output, parallelism=2) as x:
        squared = square(x=x)
    total(values=dsl.Collected(squared.output))
    with dsl.ParallelFor([{"word": "a"}, {"word": "b"}, {"word": "c"}]) as item:
        written = write(text=item.word)
    join(parts=dsl.Collected(written.outputs["out"]))


def test_parallel_for_over_a_task_output_and_a_static_list_collects_results(run_pipeline: Runner) -> None:
    result = run_pipeline(loops, {"n": 4})

    assert result.state == RunState.SUCCEEDED, result.error
    steps = result.listener.steps
    assert [steps[f"for-loop-1[{i}].square"].outputs["Output"] for i in range(4)] == [1, 4, 9, 16]
    assert result.step("total").outputs["Output"] == 30
    assert result.step("join").outputs["Output"] == "a+b+c"
    assert result.step("for-loop-1").outputs == {"square-Output": [1, 4, 9, 16]}


def test_parallelism_limits_concurrent_iterations(run_pipeline: Runner) -> None:
    result = run_pipeline(loops, {"n": 6}, max_workers=4)

    intervals = sorted(
        (s.started_at, s.finished_at) for n, s in result.listener.steps.items() if n.startswith("for-loop-1[")
    )
    assert len(intervals) == 6
    for start, _ in intervals:  # at no start time are more than 2 iterations (parallelism=2) running
        assert sum(1 for s, f in intervals if s <= start < f) <= 2


def test_plan_lists_static_steps_with_the_names_execute_reports(tmp_path, run_pipeline: Runner) -> None:
    spec = compile_pipeline(loops, tmp_path / "loops.yaml")
    names, edges = plan(spec)

    assert "for-loop-1" in names and "for-loop-3[2].write" in names
    assert ("make-list", "for-loop-1") in edges and ("for-loop-3", "for-loop-3[0].write") in edges
    result = run_pipeline(spec)
    assert set(names) <= set(result.listener.steps)
    assert {n for n in result.listener.steps if n.startswith("for-loop-1[")} == {
        "for-loop-1[0].square",
        "for-loop-1[1].square",
        "for-loop-1[2].square",
    }


@dsl.pipeline
def inner(k: int) -> int:
    return square(x=k).output


@dsl.pipeline
def outer(k: int = 3) -> int:
    first = inner(k=k)
    second = inner(k=first.output)
    return square(x=second.output).output


def test_a_pipeline_used_as_a_component_runs_as_a_nested_dag(run_pipeline: Runner) -> None:
    result = run_pipeline(outer, {"k": 2})

    assert result.state == RunState.SUCCEEDED, result.error
    assert result.step("inner.square").outputs["Output"] == 4
    assert result.step("inner").outputs == {"Output": 4}
    assert result.step("inner-2.square").inputs == {"x": 4}
    assert result.step("square").outputs["Output"] == 256


@component
def fail_if_big(x: int) -> int:
    if x > 1:
        raise ValueError("too big")
    return x


@component
def report_status(status: dsl.PipelineTaskFinalStatus) -> str:
    return f"{status.state}:{status.pipeline_task_name}"


@dsl.pipeline
def with_exit_handler(x: int = 2):
    final = report_status()
    with dsl.ExitHandler(final):
        fail_if_big(x=x)


def test_an_exit_handler_runs_after_its_group_even_when_it_failed(run_pipeline: Runner) -> None:
    result = run_pipeline(with_exit_handler)

    assert result.state == RunState.FAILED
    assert result.step("exit-handler-1.fail-if-big").error == "ValueError: too big"
    assert result.step("report-status").outputs == {"Output": "FAILED:exit-handler-1"}


@dsl.pipeline
def one_of(x: int = 2) -> str:
    with dsl.If(x > 1):
        big = describe(kind="big")
    with dsl.Else():
        small = describe(kind="small")
    return describe(kind=dsl.OneOf(big.output, small.output)).output


def test_one_of_takes_the_output_of_the_branch_that_ran(run_pipeline: Runner) -> None:
    assert run_pipeline(one_of, {"x": 5}).step("describe-3").outputs == {"Output": "big"}
    assert run_pipeline(one_of, {"x": 0}).step("describe-3").outputs == {"Output": "small"}


@component
def read_data(data: Input[Dataset]) -> str:
    return open(data.path).read()


@dsl.pipeline
def imports(uri: str):
    data = dsl.importer(artifact_uri=uri, artifact_class=Dataset, reimport=False)
    read_data(data=data.output)


def test_an_importer_brings_an_existing_file_in_as_an_artifact(run_pipeline: Runner, tmp_path) -> None:
    existing = tmp_path / "existing.csv"
    existing.write_text("a,b\n1,2\n")

    result = run_pipeline(imports, {"uri": str(existing)})

    assert result.state == RunState.SUCCEEDED, result.error
    assert result.step("importer").outputs == {"artifact": str(existing)}
    assert result.step("read-data").outputs == {"Output": "a,b\n1,2\n"}


@dsl.container_component
def echo_container(text: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[text])


@dsl.pipeline
def container_pipeline():
    echo_container(text="hi")


def test_a_container_component_fails_with_a_clear_message(run_pipeline: Runner) -> None:
    result = run_pipeline(container_pipeline)

    assert result.state == RunState.FAILED
    error = result.step("echo-container").error or ""
    assert "'alpine'" in error and "lightweight Python components" in error


@component
def read_env() -> str:
    import os

    return f"{os.environ['GREETING']}|{os.environ['JUPYTER_MLOPS_STEP']}|{os.environ['_KFP_RUNTIME']}"


@dsl.pipeline
def with_env():
    read_env().set_env_variable("GREETING", "hello")


def test_a_step_sees_its_env_variables(run_pipeline: Runner) -> None:
    result = run_pipeline(with_env)

    assert result.step("read-env").outputs == {"Output": "hello|read-env|true"}


def test_a_dependency_cycle_in_hand_edited_ir_fails_instead_of_hanging(
    run_pipeline: Runner, tmp_path
) -> None:
    spec = compile_pipeline(outer, tmp_path / "outer.yaml")
    tasks = spec[0]["root"]["dag"]["tasks"]
    tasks["inner"]["dependentTasks"] = ["square"]  # square already waits on inner-2, which waits on inner

    result = run_pipeline(spec)

    assert result.state == RunState.FAILED
    assert "cycle" in (result.step("inner").error or "")
    assert {s.state for s in result.listener.steps.values()} <= {
        StepState.FAILED,
        StepState.SKIPPED,
        StepState.PENDING,
    }


@dsl.pipeline
def takes_a_dataset(data: Input[Dataset]):
    read_data(data=data)


def test_a_pipeline_artifact_input_is_given_as_a_path(run_pipeline: Runner, tmp_path) -> None:
    existing = tmp_path / "given.txt"
    existing.write_text("given")

    result = run_pipeline(takes_a_dataset, {"data": str(existing)})

    assert result.state == RunState.SUCCEEDED, result.error
    assert result.step("read-data").outputs == {"Output": "given"}
    assert result.step("read-data").inputs == {"data": str(existing)}
    assert bind_arguments(result.spec, {"data": str(existing)}) == {"data": str(existing)}  # JSON, storable

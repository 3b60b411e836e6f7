"""A re-run reuses finished steps (state CACHED) unless inputs, code or files changed, or caching is off."""

import dataclasses
import functools
from pathlib import Path

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from jupyter_mlops.models import RunState, StepState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def produce(n: int, data: Output[Dataset]) -> int:
    with open(data.path, "w") as f:
        f.write("x" * n)
    return n * 2


@component
def consume(data: Input[Dataset], doubled: int) -> str:
    return f"{len(open(data.path).read())}/{doubled}"


@component
def stamp() -> str:
    import time

    return repr(time.time())


@dsl.pipeline
def cached_pipeline(n: int = 3):
    made = produce(n=n)
    consume(data=made.outputs["data"], doubled=made.outputs["Output"])
    stamp().set_caching_options(False)


def _states(result) -> dict:
    return {name: s.state for name, s in result.listener.steps.items()}


def test_a_rerun_is_all_cached_with_equal_outputs(run_pipeline: Runner) -> None:
    first = run_pipeline(cached_pipeline)
    second = run_pipeline(cached_pipeline)

    assert first.state == second.state == RunState.SUCCEEDED
    assert _states(second) == {
        "produce": StepState.CACHED,
        "consume": StepState.CACHED,
        "stamp": StepState.SUCCEEDED,
    }
    assert second.outputs("consume") == first.outputs("consume") == {"Output": "3/6"}
    assert second.outputs("produce")["Output"] == 6
    copy = Path(second.outputs("produce")["data"])
    assert copy.is_relative_to(second.workdir) and copy.read_text() == "xxx"
    assert second.step("produce").cache_key == first.step("produce").cache_key
    assert second.step("stamp").outputs != first.step("stamp").outputs  # caching disabled for this step
    assert second.listener.log("produce").startswith("[jupyter-mlops] cached:")  # nothing ran


def test_changed_inputs_miss_the_cache(run_pipeline: Runner) -> None:
    run_pipeline(cached_pipeline, {"n": 3})
    changed = run_pipeline(cached_pipeline, {"n": 4})

    assert _states(changed)["produce"] == StepState.SUCCEEDED
    assert changed.outputs("consume") == {"Output": "4/8"}


def test_a_cached_entry_whose_artifact_was_deleted_is_a_miss(run_pipeline: Runner) -> None:
    first = run_pipeline(cached_pipeline)
    Path(first.outputs("produce")["data"]).unlink()

    second = run_pipeline(cached_pipeline)

    assert _states(second)["produce"] == StepState.SUCCEEDED
    # the re-made artifact has the same content, so its consumer is still a hit
    assert _states(second)["consume"] == StepState.CACHED
    assert Path(second.outputs("produce")["data"]).read_text() == "xxx"


def test_consumers_are_keyed_by_artifact_content_not_path(run_pipeline: Runner) -> None:
    first = run_pipeline(cached_pipeline)
    Path(first.outputs("produce")["data"]).write_text("yyy")  # same size, different content

    second = run_pipeline(cached_pipeline)

    assert _states(second)["produce"] == StepState.SUCCEEDED
    assert _states(second)["consume"] == StepState.CACHED  # new content equals the original "xxx"


def test_a_no_cache_run_neither_reads_nor_writes_the_cache(run_pipeline: Runner) -> None:
    uncached = run_pipeline(cached_pipeline, cache=False)
    after = run_pipeline(cached_pipeline)

    assert set(_states(uncached).values()) == {StepState.SUCCEEDED}
    assert set(_states(after).values()) == {StepState.SUCCEEDED}
    assert run_pipeline(cached_pipeline, cache=False).step("produce").state == StepState.SUCCEEDED


def test_the_cache_survives_in_files_across_executions(run_pipeline: Runner, tmp_path: Path) -> None:
    run_pipeline(cached_pipeline)

    entries = list((tmp_path / "cache" / "steps").rglob("*.json"))
    assert len(entries) == 2  # produce and consume; stamp has caching off
    assert not list((tmp_path / "cache" / "steps").rglob(".tmp-*"))


def test_a_cache_entry_outlives_its_run_while_a_run_that_reused_it_remains(run_pipeline: Runner) -> None:
    import shutil

    first = run_pipeline(cached_pipeline)
    second = run_pipeline(cached_pipeline)  # cached: hard links to the first run's artifact
    shutil.rmtree(first.workdir)  # the user deletes the first run

    third = run_pipeline(cached_pipeline)

    assert _states(third)["produce"] == StepState.CACHED
    assert Path(third.outputs("produce")["data"]).read_text() == "xxx"
    shutil.rmtree(second.workdir)
    shutil.rmtree(third.workdir)
    assert _states(run_pipeline(cached_pipeline))["produce"] == StepState.SUCCEEDED  # no copy left


def test_a_step_importing_the_step_runtime_keys_on_its_source(monkeypatch) -> None:
    """Steps import the step runtime instead of carrying it (issue 10): a change to the runtime's code
    must still be a cache miss, as a change to pasted code was; plain kfp steps do not key on it."""
    from jupyter_mlops.executor import cache
    from jupyter_mlops.ir.spec import PipelineIR

    from .notebook_cells import compiled

    documents = compiled(["%%component make\nx = 1"])
    ir = PipelineIR(documents)
    (name,) = documents[0]["root"]["dag"]["tasks"]
    task = documents[0]["root"]["dag"]["tasks"][name]
    step = ir.python_step(name, documents[0]["components"][task["componentRef"]["name"]])
    plain = dataclasses.replace(step, source=step.source.replace("jupyter_mlops.step_runtime", "elsewhere"))
    before = cache.cache_key({}, step, {}, {}), cache.cache_key({}, plain, {}, {})
    monkeypatch.setattr(cache, "step_runtime_digest", lambda: "another runtime")
    after = cache.cache_key({}, step, {}, {}), cache.cache_key({}, plain, {}, {})
    assert before[0] != after[0] and before[1] == after[1]

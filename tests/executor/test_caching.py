"""A re-run reuses finished steps (state CACHED) unless inputs, code or files changed, or caching is off."""

import dataclasses
import functools
from pathlib import Path

import pytest
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
    # A cached step's output stands for "made by that step, this file" (no hash of its bytes, issue 15):
    # the file was made again, so its reader runs again too.
    assert _states(second)["consume"] == StepState.SUCCEEDED
    assert Path(second.outputs("produce")["data"]).read_text() == "xxx"
    assert second.outputs("consume") == {"Output": "3/6"}
    assert _states(run_pipeline(cached_pipeline)) == {  # and the new files are found again
        "produce": StepState.CACHED,
        "consume": StepState.CACHED,
        "stamp": StepState.SUCCEEDED,
    }


def test_an_artifact_changed_in_place_makes_its_maker_and_its_readers_run_again(run_pipeline: Runner) -> None:
    first = run_pipeline(cached_pipeline)
    Path(first.outputs("produce")["data"]).write_text("yyyy")

    second = run_pipeline(cached_pipeline)

    assert _states(second)["produce"] == StepState.SUCCEEDED
    assert _states(second)["consume"] == StepState.SUCCEEDED
    assert second.outputs("consume") == {"Output": "3/6"}


@component
def write_fixed(data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write("fixed")


@dsl.pipeline
def uncached_maker():
    made = write_fixed().set_caching_options(False)
    consume(data=made.outputs["data"], doubled=1)


def test_an_output_of_a_step_not_cached_is_known_by_its_content(run_pipeline: Runner) -> None:
    """Its maker runs every time, at a new path: its reader is a hit while the bytes are the same."""
    run_pipeline(uncached_maker)
    second = run_pipeline(uncached_maker)

    assert _states(second) == {"write-fixed": StepState.SUCCEEDED, "consume": StepState.CACHED}
    assert second.outputs("consume") == {"Output": "5/1"}


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


def test_handing_a_cached_steps_output_to_the_next_step_reads_none_of_its_bytes(
    run_pipeline: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 1 GiB hand-over with the cache on costs no sha256 (issue 15): keys never hash such outputs."""
    from jupyter_mlops.ir import values

    def no_hashing(path: Path) -> str:
        raise AssertionError(f"hashed {path}")

    monkeypatch.setattr(values, "content_hash", no_hashing)
    first = run_pipeline(cached_pipeline)
    second = run_pipeline(cached_pipeline)

    assert first.state == second.state == RunState.SUCCEEDED, (first.error, second.error)
    assert _states(second)["consume"] == StepState.CACHED


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

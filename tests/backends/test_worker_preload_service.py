"""Steps forked under the runner service find what kfp's executor compiles on its first use already
made, whichever process forked their worker: the zygote (worker.preload) or the run's runner, forked
from the service (runner_service.warm_up). See tests/executor/test_worker_preload.py."""

from pathlib import Path
from typing import NamedTuple

import pytest
from kfp import dsl

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.executor.processes import fork_supported
from jupyter_mlops.models import RunState

from .contract import explain, finished
from .pipelines import compiled

pytestmark = pytest.mark.skipif(not fork_supported(), reason="forked steps (Linux)")


@pytest.fixture(autouse=True)
def service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", "service")


@dsl.component(base_image="python:3.11")
def compiled_in_the_step() -> NamedTuple("Outputs", [("count", int)]):  # type: ignore[valid-type]
    """How many regular expressions reading a type name compiles here: 0 when its worker did it."""
    import re
    from collections import namedtuple

    from kfp.dsl.types import type_annotations

    before = len(re._cache)  # type: ignore[attr-defined]
    assert type_annotations.get_short_type_name("typing.Dict[str, int]") == "Dict"
    return namedtuple("Outputs", ["count"])(len(re._cache) - before)  # type: ignore[attr-defined]


@dsl.pipeline
def one_step() -> int:
    return compiled_in_the_step().outputs["count"]


def test_steps_under_the_service_find_kfps_type_name_pattern_compiled(home: Path) -> None:
    backend = LocalBackend(home)
    spec = compiled(one_step)
    for _ in range(3):  # the first run's worker may be forked by its runner, the later ones by the zygote
        run = finished(backend, backend.submit(spec, cache=False).id)
        assert run.state is RunState.SUCCEEDED, explain(run)
        assert [step.outputs for step in run.steps] == [{"count": 0}]

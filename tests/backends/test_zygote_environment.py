"""A preloaded step (backends/zygotes.py) imports its modules in the environment a fresh interpreter
would have: the submitting kernel's variables and the step's own (`set_env_variable`). Modules read
some variables once, at import: numpy whether to ask for huge pages for large arrays
(NUMPY_MADVISE_HUGEPAGE), BLAS libraries their thread count (OMP_NUM_THREADS)."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from waiting import wait_until

from jupyter_mlops.backends.local import LocalBackend

from . import environment_pipelines
from .pipelines import compiled
from .test_zygotes import run_and_parent, zygote_pids

VARIABLE = "JUPYTER_MLOPS_TEST_AT_IMPORT"


@pytest.fixture(autouse=True)
def service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", "service")


def found(run: Any) -> Any:
    return json.loads(run.step("env-probe").outputs["Output"])


def fresh(env: dict[str, str]) -> Any:
    out = subprocess.run([sys.executable, "-c", environment_pipelines.FRESH], capture_output=True,
                         text=True, check=True, timeout=120, env=env)  # fmt: skip
    return json.loads(out.stdout)


def test_a_preloaded_step_imports_its_modules_in_its_own_environment(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "importenv.py").write_text(f"import os\nSEEN = os.environ.get({VARIABLE!r})\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(modules), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv(VARIABLE, "first kernel")
    backend = LocalBackend(home)
    spec = compiled(environment_pipelines.env_probes)
    run_and_parent(backend, spec)  # starts the zygote for {importenv, numpy}
    wait_until(lambda: zygote_pids(home), 60, "the zygote")
    run, parent = run_and_parent(backend, spec)
    assert parent in zygote_pids(home)  # forked from the zygote
    expected = fresh(dict(os.environ, NUMPY_MADVISE_HUGEPAGE="0"))
    assert expected == {"seen_at_import": "first kernel", "numpy_hugepages": False}
    assert found(run) == expected  # the step's own variable, not the service's, when numpy loaded

    monkeypatch.setenv(VARIABLE, "another kernel")  # the same steps from a kernel set up otherwise
    for _ in range(2):
        run, _ = run_and_parent(backend, spec)
        assert found(run)["seen_at_import"] == "another kernel"


def test_a_step_allocates_memory_under_the_settings_of_a_plain_process(home: Path) -> None:
    """What decides how a step's allocations go (huge pages not disabled, CPUs, priority, limits,
    malloc tunables) is what a plain process started by the same user has, from a zygote too."""
    backend = LocalBackend(home)
    spec = compiled(environment_pipelines.settings_probes)
    runs = [run_and_parent(backend, spec)[0]]  # starts the zygote for {numpy}
    wait_until(lambda: zygote_pids(home), 60, "the zygote")
    run, parent = run_and_parent(backend, spec)
    assert parent in zygote_pids(home)
    runs.append(run)
    source = inspect.getsource(environment_pipelines.settings_probe.python_func)
    body = "\n".join(line for line in textwrap.dedent(source).splitlines() if not line.startswith("@"))
    code = body + "\nprint(settings_probe())"  # the step's own function, in a plain process
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    expected = json.loads(out.stdout)
    assert expected["thp_disabled"] == 0
    for run in runs:
        assert json.loads(run.step("settings-probe").outputs["Output"]) == expected

"""Preloaded steps (backends/zygotes.py): runs whose steps import third-party modules get their runner
forked from a zygote of the runner service with those modules loaded, and the steps find what a fresh
interpreter finds: fresh random state, untouched module state, the threads an import starts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import psutil
import pytest
from waiting import wait_until

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.backends.service_address import socket_path
from jupyter_mlops.backends.service_client import LOG
from jupyter_mlops.models import RunState

from . import zygote_pipelines
from .contract import explain, finished
from .pipelines import compiled
from .service_processes import is_workers_zygote


@pytest.fixture(autouse=True)
def service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", "service")


def fresh(code: str, env: dict[str, str] | None = None) -> Any:
    """What a fresh interpreter prints (JSON)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=120, env=env)  # fmt: skip
    return json.loads(out.stdout)


def run_and_parent(backend: LocalBackend, spec: str, **arguments: Any) -> tuple[Any, int]:
    """Run to the end; the run and the parent pid its runner had while running."""
    run_id = backend.submit(spec, arguments, cache=False).id
    pid = backend.store.runner_record(run_id)["pid"]
    try:
        parent = psutil.Process(pid).ppid()
    except psutil.NoSuchProcess:
        parent = -1  # already gone: cannot tell (the steps below keep it alive long enough)
    run = finished(backend, run_id)
    assert run.state is RunState.SUCCEEDED, explain(run)
    return run, parent


def service_pid(home: Path) -> int:
    from jupyter_mlops.backends.service_client import _ask

    return int(_ask(socket_path(home), {"op": "ping"}, 5.0)["pid"])


def zygote_pids(home: Path) -> set[int]:
    """The service's zygotes: its children but its spare runner (forked_runner.py), between runs, and its
    step workers' zygote (executor/worker_zygote.py)."""
    from jupyter_mlops.backends.service_client import _ask

    reply = _ask(socket_path(home), {"op": "ping"}, 5.0)
    children = psutil.Process(int(reply["pid"])).children()
    return {c.pid for c in children if not is_workers_zygote(c)} - {reply.get("spare")}


def test_steps_from_a_zygote_find_what_a_fresh_interpreter_finds(home: Path) -> None:
    backend = LocalBackend(home)
    spec = compiled(zygote_pipelines.probes)
    first, _ = run_and_parent(backend, spec, seed=7)  # starts the zygote for {numpy}
    service = service_pid(home)
    wait_until(lambda: zygote_pids(home), 60, "the zygote")
    runs = [first]
    parents = []
    for _ in range(2):
        run, parent = run_and_parent(backend, spec, seed=7)
        runs.append(run)
        parents.append(parent)
    zygotes = zygote_pids(home)
    assert parents and all(p in zygotes for p in parents), (parents, zygotes, service)  # from the zygote
    from jupyter_mlops.backends.service_client import describe

    assert "steps preloaded with numpy" in describe(home)  # what %pipeline backend shows
    wait_until(lambda: "(no runs going on;" in describe(home), 60, "the runs' runners to be gone")

    expected = fresh(
        "import json, threading, numpy as np; np.random.seed(7); "
        "print(json.dumps({'np_seeded': float(np.random.rand()), 'threads': threading.active_count(), "
        "'precision': np.get_printoptions()['precision']}))"
    )
    found = [json.loads(run.step(name).outputs["Output"]) for run in runs for name in ("probe", "probe-2")]
    for probe in found:
        assert probe["np_seeded"] == expected["np_seeded"]  # a seed gives a fresh interpreter's numbers
        assert probe["precision"] == expected["precision"]  # no step sees what an earlier one changed
        assert probe["probe_attribute"] is False
        assert probe["threads"] == expected["threads"]
    # unseeded random numbers differ from step to step, as between fresh interpreters
    assert len({p["np_random"] for p in found}) == len(found)
    assert len({p["py_random"] for p in found}) == len(found)


def test_an_import_that_starts_a_thread_is_not_preloaded(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "startsathread.py").write_text(
        textwrap.dedent("""
        import threading, time
        worker = threading.Thread(target=time.sleep, args=(3600,), daemon=True)
        worker.start()
    """)
    )
    import os

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(modules), os.environ.get("PYTHONPATH", "")]))
    backend = LocalBackend(home)
    spec = compiled(zygote_pipelines.thread_probes)
    expected = fresh("import json, threading, startsathread; print(json.dumps({'alive': "
                     "startsathread.worker.is_alive(), 'threads': threading.active_count()}))",
                     env=dict(os.environ))  # fmt: skip
    for _ in range(3):
        run, _parent = run_and_parent(backend, spec)
        assert json.loads(run.step("thread-probe").outputs["Output"]) == expected
    wait_until(lambda: "starts a thread" in (home / LOG).read_text(), 60, "the service to say why")
    assert zygote_pids(home) == set()  # no zygote kept for it


def test_zygotes_stay_within_the_memory_cap(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_ZYGOTE_MB", "1")  # less than any zygote: none may stay
    backend = LocalBackend(home)
    spec = compiled(zygote_pipelines.probes)
    for _ in range(2):
        run_and_parent(backend, spec, seed=1)
    service = service_pid(home)
    wait_until(lambda: not zygote_pids(home), 60, "the zygote over the cap to go")
    _, parent = run_and_parent(backend, spec, seed=1)
    assert parent in (service, -1)


def test_a_module_upgraded_on_disk_is_loaded_anew(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    modules = tmp_path / "modules"
    (modules / "fakepkg").mkdir(parents=True)
    init = modules / "fakepkg" / "__init__.py"
    init.write_text("VALUE = 1\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(modules), os.environ.get("PYTHONPATH", "")]))
    backend = LocalBackend(home)
    spec = compiled(zygote_pipelines.version_probes)
    run, _ = run_and_parent(backend, spec)  # starts the zygote for {fakepkg}
    assert run.step("read-version").outputs["Output"] == 1
    wait_until(lambda: zygote_pids(home), 60, "the zygote")
    run, _ = run_and_parent(backend, spec)
    assert run.step("read-version").outputs["Output"] == 1
    init.write_text("VALUE = 2\n")  # `pip install -U fakepkg`
    os.utime(init, ns=(init.stat().st_atime_ns, init.stat().st_mtime_ns + 10**9))
    for _ in range(2):  # a fresh interpreter would load the new version: so must every run now
        run, _ = run_and_parent(backend, spec)
        assert run.step("read-version").outputs["Output"] == 2

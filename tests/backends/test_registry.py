"""Backends are found by name through the `jupyter_mlops.backends` entry points, so another package can
add one; one backend object serves a process (a kernel) for a home."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from jupyter_mlops.backends import registry
from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.errors import BackendError, UsageError


def _third_party(tmp_path: Path, module: str, target: str) -> Path:
    """A folder that, on sys.path, is an installed distribution registering backend 'mine' -> target."""
    site = tmp_path / "site"
    dist = site / "mine_backend-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mine-backend\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[jupyter_mlops.backends]\nmine = {target}\n")
    if module:
        (site / "mine_backend.py").write_text(module)
    return site


def _python(site: Path, code: str, home: Path) -> subprocess.CompletedProcess[str]:
    repo = Path(__file__).resolve().parents[2]
    env = {"PYTHONPATH": f"{site}:{repo}", "JUPYTER_MLOPS_HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300
    )


def test_the_local_backend_is_registered_by_name() -> None:
    # Through the installed package's own metadata (pyproject's entry points), as a plugin's would be.
    declared = {ep.name: ep.value for ep in entry_points(group=registry.GROUP)}
    assert declared["local"] == "jupyter_mlops.backends.local:LocalBackend"
    assert registry.available()["local"] == "jupyter_mlops.backends.local:LocalBackend"
    assert registry.backend_class("local") is LocalBackend


def test_a_backend_another_package_registers_runs_pipelines(tmp_path: Path) -> None:
    module = textwrap.dedent(
        """
        from jupyter_mlops.backends.local import LocalBackend

        class MineBackend(LocalBackend):
            name = "mine"
        """
    )
    site = _third_party(tmp_path, module, "mine_backend:MineBackend")
    (site / "greet_pipeline.py").write_text(  # kfp reads a component's source from its file
        textwrap.dedent(
            """
            from kfp import dsl

            @dsl.component(base_image="python:3.11")
            def hello(who: str) -> str:
                return "hello " + who

            @dsl.pipeline(name="greet")
            def greet(who: str = "world"):
                hello(who=who)
            """
        )
    )
    out = _python(
        site,
        """
        import jupyter_mlops as mlops
        from jupyter_mlops.backends.registry import available
        from greet_pipeline import greet

        assert "mine" in available(), available()
        run = mlops.run(greet, {"who": "plugin"}, backend="mine").wait(timeout=240)
        print(run.backend.name, run.state.value, run.info.steps[0].outputs["Output"])
        """,
        tmp_path / "home",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["mine", "SUCCEEDED", "hello", "plugin"]


def test_a_registered_backend_that_cannot_load_says_what_to_install(tmp_path: Path) -> None:
    site = _third_party(tmp_path, "import kubernetes_client_that_is_missing\n", "mine_backend:MineBackend")
    out = _python(
        site,
        """
        from jupyter_mlops.backends.registry import get_backend
        get_backend("mine")
        """,
        tmp_path / "home",
    )
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert "BackendError: the 'mine' backend (mine_backend:MineBackend) cannot be loaded" in last
    assert "'kubernetes_client_that_is_missing' is not installed" in last
    assert "pip install kubernetes_client_that_is_missing" in last


def test_unknown_names_list_the_choices_and_kfp_says_what_to_do() -> None:
    with pytest.raises(UsageError, match=r"unknown backend 'nope' \(choose one of: .*local"):
        registry.get_backend("nope")
    with pytest.raises(BackendError, match=r"'kfp' backend is not available in this version.*compile"):
        registry.get_backend("kfp")


def test_one_shared_backend_per_process_and_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "a"))
    first = registry.shared_backend("local")
    assert registry.shared_backend("local") is first
    assert registry.shared_backend("local", max_workers=1) is not first  # other options: its own
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "b"))
    other = registry.shared_backend("local")
    assert other is not first and isinstance(other, LocalBackend) and other.home == tmp_path / "b"
    registry.close_shared()
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "a"))
    assert registry.shared_backend("local") is not first  # closed ones are made anew
    registry.close_shared()


def test_a_default_that_cannot_be_made_is_refused_and_the_old_one_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    before = registry.default_backend()
    with pytest.raises(BackendError):
        registry.set_default("kfp", host="http://127.0.0.1:9")
    assert registry.default_backend() is before and before.name == "local"
    registry.close_shared()

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.realworld.harness")

from .conversions import BY_NAME  # noqa: E402
from .harness import REPO, Reference, notebook_folder, run_plain  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _this_checkout_everywhere() -> None:
    """The test process, the kernels it starts and the CLI processes import this checkout's package
    (they inherit PYTHONPATH), not another install of it."""
    import jupyter_mlops

    here = Path(jupyter_mlops.__file__).resolve()
    assert here.is_relative_to(REPO), f"jupyter_mlops imported from {here}, not from {REPO}: set PYTHONPATH"
    child = subprocess.run(
        [sys.executable, "-c", "import jupyter_mlops; print(jupyter_mlops.__file__)"],
        cwd="/",  # not this checkout's folder, which `python -c` would put on the path
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(child.stdout.strip()).resolve() == here, child.stdout


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh run store for each test, seen by the CLI processes and kernels the test starts."""
    path = tmp_path / "mlops-home"
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Reference]:
    """NAME -> the plain notebook run top to bottom in a kernel (once per session)."""
    done: dict[str, Reference] = {}

    def get(name: str) -> Reference:
        if name not in done:
            done[name] = run_plain(BY_NAME[name], notebook_folder(tmp_path_factory.mktemp(f"plain-{name}")))
        return done[name]

    return get

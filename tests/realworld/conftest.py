from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.realworld.harness")

from .conversions import BY_NAME, read_plain  # noqa: E402
from .harness import (  # noqa: E402
    REPO,
    cell_by_id,
    execute,
    notebook_folder,
    report_cell_id,
    report_in,
    stream_text,
)


@pytest.fixture(scope="session", autouse=True)
def _this_checkout_everywhere() -> None:
    """The test process, the kernels it starts and the CLI processes import this checkout's package
    (they inherit PYTHONPATH), not another install of it."""
    import jupyter_mlops

    here = Path(jupyter_mlops.__file__).resolve()
    assert here.is_relative_to(REPO), f"jupyter_mlops imported from {here}, not from {REPO}: set PYTHONPATH"
    child = subprocess.run(
        [sys.executable, "-c", "import jupyter_mlops; print(jupyter_mlops.__file__)"],
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
def reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """NAME -> the plain notebook's key values, run top to bottom in a kernel (once per session)."""
    done: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in done:
            conversion = BY_NAME[name]
            folder = notebook_folder(tmp_path_factory.mktemp(f"plain-{name}"))
            nb = execute(read_plain(conversion), folder)
            text = stream_text(cell_by_id(nb, report_cell_id(conversion)))
            values = report_in(text)
            assert values, f"{conversion.notebook}: its last cell printed no key values: {text!r}"
            for path in conversion.writes:
                assert (folder / path).is_file(), f"{conversion.notebook} did not write {path}"
            done[name] = values
        return done[name]

    return get

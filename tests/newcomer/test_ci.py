"""`.ci/run` runs the README's test command the way a fresh Debian machine would: with Debian's own
`python3` (/usr/bin/python3) first on PATH, whatever Python the build machine puts first, so the scripts
make their `.venv` with it. Checked on a clean copy whose scripts/test.sh is replaced by one that reports
which python3 it got (the command itself runs for real on a fresh machine in test_fresh_machine.py, and in
CI on a clean clone)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.newcomer.fresh_checkout import clean_copy, newcomer_env
from tests.newcomer.venvs import base_python

SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no system python3 (/usr/bin/python3)")
def test_ci_runs_the_test_command_with_debians_python3_first(tmp_path: Path) -> None:
    other = Path(base_python()).resolve()
    if str(other).startswith("/usr/"):
        pytest.skip(f"this machine's Python is the system's ({other})")
    bin_dir = tmp_path / "build-machine-bin"  # the build machine's own Python first, as CI images have it
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(other)
    checkout = clean_copy(tmp_path / "clone")
    (checkout / "scripts" / "test.sh").write_text('echo "test.sh got python3=$(command -v python3)"\n')
    env = newcomer_env(tmp_path / "home", first_on_path=str(bin_dir))
    assert subprocess.run(
        ["bash", "-c", "command -v python3"], env=env, capture_output=True, text=True
    ).stdout == (f"{bin_dir}/python3\n")

    ci = subprocess.run(
        ["bash", ".ci/run"], cwd=checkout, env=env, capture_output=True, text=True, timeout=120
    )

    assert ci.returncode == 0, ci.stdout + ci.stderr
    assert "python3: /usr/bin/python3" in ci.stdout, ci.stdout
    assert "test.sh got python3=/usr/bin/python3" in ci.stdout, ci.stdout

"""The set-up scripts as text: valid bash, and apt installs only what a package needs (no recommends:
on a fresh Debian machine Chromium's recommends pulled in systemd, avahi and cups helpers)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.newcomer.readme_blocks import ROOT

SCRIPTS = sorted(
    [
        *ROOT.glob("scripts/*.sh"),
        ROOT / "binder" / "postBuild",
        ROOT / ".ci" / "run",
        *ROOT.glob("bench/*.sh"),
    ]
)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_script_is_valid_bash(script) -> None:
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_apt_install_leaves_out_recommends() -> None:
    installs = [
        (script.relative_to(ROOT), line.strip())
        for script in SCRIPTS
        for line in script.read_text().splitlines()
        if re.search(r"\bapt(-get)?\b.*\binstall\b", line) and not line.strip().startswith("#")
    ]
    assert installs, "no apt install found: the scripts moved?"
    assert all("--no-install-recommends" in line for _, line in installs), installs

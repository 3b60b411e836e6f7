"""How error messages name paths for the browser (issue 12, item 17; server/public_paths.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_mlops.server.public_paths import scrub

PLACES = [
    (Path("/srv/root"), ""),
    (Path("/srv/root/.mlops/runs"), "<artifact root>"),
    (Path("/srv/root/.mlops"), "$JUPYTER_MLOPS_HOME"),
]


@pytest.mark.parametrize(
    ("message", "public"),
    [
        (
            "the run store /srv/root/.mlops/store.db is busy",
            "the run store $JUPYTER_MLOPS_HOME/store.db is busy",
        ),
        ("notebook /srv/root/work/a.ipynb: cell 2", "notebook work/a.ipynb: cell 2"),
        ("see /srv/root/.mlops/runs/abc/runner.log.", "see <artifact root>/abc/runner.log."),
        ("cannot start /usr/bin/python3.11: gone", "cannot start python3.11: gone"),
        ("http://host/x, a/b/c and 1/2 stay", "http://host/x, a/b/c and 1/2 stay"),
    ],
)
def test_paths_are_named_as_the_user_can_act_on_them(message: str, public: str) -> None:
    assert scrub(message, PLACES) == public


def test_a_path_in_the_users_home_is_told_from_there() -> None:
    home = os.path.expanduser("~")
    assert scrub(f"no file {home}/data/x.csv", []) == "no file ~/data/x.csv"

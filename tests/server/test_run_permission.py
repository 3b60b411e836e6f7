"""Creating a run is running code (issue 12, item 8): an authorizer that allows `mlops` but forbids
kernels forbids run creation too (it ran `id` as the server's user before); a hidden notebook is not
run unless the server serves hidden files (test_hidden_notebooks.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from backends.pipelines import arith, compiled
from jupyter_server.auth.authorizer import Authorizer
from traitlets.config import Config

from .conftest import TWO_STEPS, MlopsApi, write_notebook


class NoCodeAuthorizer(Authorizer):
    """Everything but kernels and terminals (a read-and-write, no-code deployment)."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource not in ("kernels", "terminals")


@pytest.fixture
def jp_server_config(mlops_home: Path) -> Config:
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"jupyter_mlops": True},
                "allow_unauthenticated_access": False,
                "authorizer_class": NoCodeAuthorizer,
            }
        }
    )


async def test_an_authorizer_that_forbids_kernels_forbids_creating_runs(
    api: MlopsApi, jp_root_dir: Path
) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    for body in ({"pipeline_yaml": compiled(arith)}, {"notebook": "sums.ipynb"}):
        code, answer = await api.call("POST", "runs", body)
        assert code == 403 and "'execute' on 'kernels'" in answer["message"], answer
    page = await api.get("runs")  # reading is still allowed
    assert page["total"] == 0

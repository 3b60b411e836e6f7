"""A failed KFP run retried to success: its steps' output values are read again from ML Metadata, not
the ones kept from when it had failed (a finished run's values are kept until it finishes anew)."""

from __future__ import annotations

from pathlib import Path

from kfp_standin import StandIn

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.models import RunState

from .contract import finished, succeeded
from .test_kfp_backend import _compiled, flaky


def test_a_retried_runs_outputs_are_read_again(standin: StandIn, tmp_path: Path) -> None:
    backend = KfpBackend(host=standin.url, refresh=0.0)
    marker = tmp_path / "arrived.txt"
    run = finished(backend, backend.submit(_compiled(flaky, tmp_path), {"path": str(marker)}).id)
    assert run.state is RunState.FAILED
    assert backend.get(run.id).step("one").outputs == {"Output": 1}  # the values of the failed run, read
    assert backend.get(run.id).step("needs-file").outputs == {}
    marker.write_text("here")
    backend.retry(run.id)
    again = succeeded(backend, run.id)
    assert again.step("needs-file").outputs == {"Output": "found"}
    backend.close()

"""Output parameters, metrics and artifact metadata of KFP runs read back from ML Metadata through the
KFP UI's gRPC-web proxy, against the stand-in KFP server (tests/kfp_standin/metadata.py records what
KFP's v2 launcher does): `run.outputs`, the run's metrics, the view's step panel; the API server alone
(no proxy) keeps saying where to look."""

from __future__ import annotations

from pathlib import Path

import pytest
from kfp_standin import StandIn

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.errors import Unsupported
from jupyter_mlops.run_handle import Run
from jupyter_mlops.widgets.run_widget import RunView

from .contract import succeeded

Specs = dict[str, str]


def test_outputs_and_metrics_come_back_from_ml_metadata(standin: StandIn, specs: Specs) -> None:
    backend = KfpBackend(host=standin.url)
    assert backend.capabilities.outputs is True  # probed once: the host proxies ML Metadata
    probed = len([r for r in standin.requests if r.startswith("POST /ml_metadata.")])
    run_id = backend.submit(specs["dataset"], {"count": 4}).id
    info = succeeded(backend, run_id)
    outputs = info.step("count-lines").outputs
    assert outputs["Output"] == 4  # an int again (MLMD's Struct has doubles)
    assert set(outputs) == {"Output", "metrics"} and outputs["metrics"].startswith("minio://")  # as local
    assert info.step("count-lines").metrics == {"lines": 4.0} and info.metrics == {"count-lines.lines": 4.0}
    assert Run(backend, run_id).outputs["count-lines"]["Output"] == 4
    [data] = backend.artifacts(run_id, "write-lines")
    assert (data.name, data.type) == ("data", "system.Dataset") and data.uri.startswith("minio://")

    asked = len([r for r in standin.requests if r.startswith("POST /ml_metadata.")])
    assert asked - probed == 4  # context, executions, artifacts, events: once for a finished run
    backend.get(run_id)
    backend.artifacts(run_id)
    assert len([r for r in standin.requests if r.startswith("POST /ml_metadata.")]) == asked

    view = RunView(backend, run_id, live=False)
    detail = view.step_detail("count-lines")
    assert detail["metrics"] == {"lines": 4.0} and view.run["metrics"] == {"count-lines.lines": 4.0}
    backend.close()


def test_the_api_server_alone_says_where_the_outputs_are(tmp_path: Path, home: Path, specs: Specs) -> None:
    server = StandIn(tmp_path / "api-only", ui=False)
    server.start()
    try:
        backend = KfpBackend(host=server.url)
        run_id = succeeded(backend, backend.submit(specs["dataset"], {"count": 2}).id).id
        assert backend.capabilities.outputs is False
        with pytest.raises(Unsupported, match=rf"does not read step output values back.*{run_id}"):
            _ = Run(backend, run_id).outputs
        backend.close()
    finally:
        server.stop()


def test_a_page_that_answers_everything_is_not_taken_for_the_kfp_ui(home: Path) -> None:
    """A gateway that answers any path with a page (a login page, a catch-all route) in front of the API
    server: logs and ML Metadata are not assumed to be there."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Gateway(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _page(self) -> None:
            healthz = self.path.startswith("/apis/v2beta1/healthz")
            body = json.dumps({"multi_user": False}).encode() if healthz else b"<html>Sign in</html>"
            self.send_response(200)
            self.send_header("Content-Type", "application/json" if healthz else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _page

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        backend = KfpBackend(host=f"http://127.0.0.1:{server.server_address[1]}")
        assert backend.capabilities.logs is False and backend.capabilities.outputs is False
        backend.close()
    finally:
        server.shutdown()
        server.server_close()

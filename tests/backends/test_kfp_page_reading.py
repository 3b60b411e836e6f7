"""How the kfp backend reads the pages its run lists show (api_reader.py, runs_json.py): over kept
connections (the health check's included), each distinct pipeline spec of a page decoded once, and a
gateway's login page or redirect said in one line instead of a traceback."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kfp_standin import StandIn

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.backends.kfp.runs_json import decode_runs_page
from jupyter_mlops.errors import BackendError

from .contract import finished

Specs = dict[str, str]


def _spec(name: str, default: int = 1) -> dict[str, Any]:
    return {
        "pipelineInfo": {"name": name},
        "root": {
            "dag": {"tasks": {}},
            "inputDefinitions": {
                "parameters": {"a": {"parameterType": "NUMBER_INTEGER", "defaultValue": default}}
            },
        },
        "schemaVersion": "2.1.0",
    }


def _run(i: int, spec: Any, **more: Any) -> dict[str, Any]:
    run = {"run_id": f"r{i}", "display_name": f"run {i}", "pipeline_spec": spec, "state": "SUCCEEDED"}
    run.update(more)
    return run


@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")], ids=["go-compact", "spaced"])
def test_a_page_decodes_as_json_loads_does(separators: tuple[str, str]) -> None:
    a, b = _spec("a"), _spec("b", 2)
    wrapped = {"pipeline_spec": _spec("c"), "platform_spec": {"platforms": {"kubernetes": {}}}}
    runs = [
        _run(0, a),
        _run(1, b),
        _run(2, a, runtime_config={"parameters": {"a": 3}}),
        _run(3, wrapped),  # a spec with its platform config: a "pipeline_spec" key inside the spec
        _run(4, None),  # no inline spec (a run of an uploaded pipeline version)
        {"run_id": "r5", "display_name": 'says "pipeline_spec": {"x": 1}', "state": "FAILED"},
        _run(6, wrapped),
        _run(7, b),
    ]
    page = {"runs": runs, "total_size": 8, "next_page_token": "abc"}
    body = json.dumps(page, separators=separators).encode()
    assert decode_runs_page(body) == json.loads(body)


def test_the_runs_of_one_pipeline_share_one_decoded_spec() -> None:
    page = {"runs": [_run(i, _spec("same")) for i in range(5)] + [_run(5, _spec("other"))]}
    decoded = decode_runs_page(json.dumps(page).encode())
    specs = [r["pipeline_spec"] for r in decoded["runs"]]
    assert all(s is specs[0] for s in specs[:5]) and specs[5] is not specs[0]
    assert specs[5]["pipelineInfo"]["name"] == "other"


def test_a_pipeline_spec_key_outside_a_runs_own_spec_decodes_the_page_whole() -> None:
    """A parameter value holding a "pipeline_spec" key is not a run's spec: the cut does not hold, and
    the page is decoded as it is."""
    odd = _run(1, _spec("x"), runtime_config={"parameters": {"cfg": {"pipeline_spec": {"k": [1, 2]}}}})
    page = {"runs": [_run(0, _spec("x")), odd, _run(2, _spec("x"))]}
    body = json.dumps(page).encode()
    assert decode_runs_page(body) == json.loads(body)


def counted_connections(standin: StandIn) -> list[Any]:
    """The connections the stand-in accepts from now on, each appended as it is accepted."""
    opened: list[Any] = []

    class Counted(set[Any]):  # the server's open connections
        def add(self, sock: Any) -> None:
            opened.append(sock)
            super().add(sock)

    with standin._lock:
        standin._connections = Counted(standin._connections)
    return opened


def test_the_first_page_of_a_new_kernel_uses_the_health_checks_connection(
    standin: StandIn, specs: Specs
) -> None:
    maker = KfpBackend(host=standin.url)
    finished(maker, maker.submit(specs["arith"], experiment="e").id)
    maker.list_runs()  # the names are known (on disk) from here on
    maker.close()

    opened = counted_connections(standin)
    backend = KfpBackend(host=standin.url)  # a later kernel: the names kept on disk, the page alone
    first = len(opened)
    page = backend.list_runs(limit=10)
    assert len(page.runs) == 1 and len(opened) == first  # no connection of its own
    backend.close()


def test_the_first_page_of_the_first_kernel_on_a_machine_opens_no_connection(
    standin: StandIn, specs: Specs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connecting sends the health check and the probe of the UI's pod-log endpoint (the stand-in is
    the UI's host) side by side and keeps both connections: the first page, which asks for the
    experiments' names beside the runs, finds two open ones."""
    maker = KfpBackend(host=standin.url)
    made = maker.submit(specs["arith"], experiment="e").id
    finished(maker, made)
    maker.close()

    opened = counted_connections(standin)
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "another-machine"))  # no names kept
    before = len(standin.requests)
    backend = KfpBackend(host=standin.url)
    assert backend.capabilities.logs  # the probe still finds the UI's log endpoint
    connect = standin.requests[before:]
    assert connect[:2] == ["GET /apis/v2beta1/healthz", "GET /k8s/pod/logs"]  # the same requests
    first, before = len(opened), len(standin.requests)
    page = backend.list_runs(limit=10)
    assert [(r.id, r.experiment) for r in page.runs] == [(made, "e")]
    assert len(standin.requests) - before == 2  # the page and the names, side by side
    assert len(opened) == first  # ... on the connections opened when connecting
    backend.close()


def test_a_ui_on_another_server_is_probed_there(tmp_path: Path) -> None:
    """The pod-log probe goes beside the health check only when the UI is the API's own host; a UI
    on another server (`ui_host`) is probed there, and the API server is asked its health alone."""
    api = StandIn(tmp_path / "api-only", ui=False)
    ui = StandIn(tmp_path / "ui")
    api.start()
    ui.start()
    try:
        backend = KfpBackend(host=api.url, ui_host=ui.url)
        assert backend.capabilities.logs  # the UI's server has the log endpoint
        assert "GET /k8s/pod/logs" not in api.requests and "GET /apis/v2beta1/healthz" in api.requests
        assert "GET /k8s/pod/logs" in ui.requests
        backend.close()
        plain = KfpBackend(host=api.url)  # the API server alone, probed on its own connection
        assert not plain.capabilities.logs and api.requests.count("GET /k8s/pod/logs") == 1
        plain.close()
    finally:
        api.stop()
        ui.stop()


def test_a_kept_connection_the_server_closed_meanwhile_is_asked_again(standin: StandIn, specs: Specs) -> None:
    """A server (or a proxy) closes connections left idle: the next page asks again on a new one."""
    backend = KfpBackend(host=standin.url)
    made = backend.submit(specs["arith"], experiment="e").id
    assert [r.id for r in backend.list_runs().runs] == [made]
    with standin._lock:
        kept = list(standin._connections)
    for sock in kept:  # every connection the server holds, closed by the server
        sock.shutdown(socket.SHUT_RDWR)
    before = len(standin.requests)
    assert [r.id for r in backend.list_runs().runs] == [made]
    assert len(standin.requests) - before == 1
    backend.close()


class _Gateway(BaseHTTPRequestHandler):
    """A multi-user Kubeflow's gateway in front of the API: the health check passes, the rest of the
    API is a login page (`mode` "page") or a redirect to one ("redirect")."""

    protocol_version = "HTTP/1.1"
    mode = "page"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/apis/v2beta1/healthz"):
            self._answer(200, json.dumps({"multi_user": True}).encode(), "application/json")
        elif self.mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "/dex/auth?client_id=kubeflow-oidc-authservice")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._answer(200, b"<html>Sign in</html>", "text/html")

    do_POST = do_GET

    def _answer(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("mode", ["page", "redirect"])
def test_a_gateways_login_page_instead_of_the_runs_is_one_line(home: Path, mode: str) -> None:
    handler = type("Gateway", (_Gateway,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        backend = KfpBackend(host=host, namespace="team")
        with pytest.raises(BackendError) as caught:
            backend.list_runs()
        text = str(caught.value)
        assert host in text and "listing" in text and "\n" not in text
        if mode == "redirect":
            assert "302" in text and "/dex/auth" in text and "credentials" in text
        else:
            assert "not JSON" in text and "--host" in text
        backend.close()
    finally:
        server.shutdown()
        server.server_close()

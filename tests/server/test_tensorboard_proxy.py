"""TensorBoard through the server extension's proxy, `mlops/tensorboard/<id>/`, against a real
TensorBoard and a real Jupyter server: the projector and time series work through it, and it goes
only to the TensorBoards this server started, for logged-in users, from its own pages."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tornado.web
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

import jupyter_mlops as mlops
from jupyter_mlops.server.tensorboard_manager import manager_of

from .conftest import Fetch, MlopsApi


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tensorboard-registry"
    monkeypatch.setenv("JUPYTER_MLOPS_TENSORBOARD_DIR", str(folder))
    return folder


@pytest.fixture
def jp_server_config(jp_server_config: Any, registry: Path) -> Any:
    return jp_server_config  # the registry folder is set before the server starts


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    vectors = np.array([[0.0, 1.0, 2.0], [1.0, 0.5, 0.0], [2.0, 2.0, 2.0], [3.0, 0.0, 1.0]])
    mlops.log_embedding(vectors, ["alpha", "beta", "gamma", "delta"], logdir=root / "run")
    return root


def extension(jp_serverapp: Any) -> Any:
    return next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_mlops"]))


async def show(api: MlopsApi, logdir: Path) -> str:
    code, body = await api.call("POST", "tensorboards", {"logdir": str(logdir)})
    assert code == 200, body
    return str(body["url"])


@pytest.fixture
def fetch_url(jp_fetch: Fetch, jp_http_port: int) -> Any:
    """GET (or another method) an absolute path on the server with the test's token, as it is:
    jp_fetch would drop the trailing slash that TensorBoard's relative URLs need."""
    token = _token_of(jp_fetch)

    async def fetch(url: str, **kwargs: Any) -> HTTPResponse:
        headers = {"Authorization": f"token {token}", **kwargs.pop("headers", {})}
        return await AsyncHTTPClient().fetch(
            f"http://127.0.0.1:{jp_http_port}{url}", headers=headers, raise_error=False,
            follow_redirects=False, **kwargs,
        )  # fmt: skip

    return fetch


async def test_the_projector_works_through_the_proxy(
    api: MlopsApi, fetch_url: Any, jp_base_url: str, logdir: Path
) -> None:
    url = await show(api, logdir)
    assert url.startswith(jp_base_url + "mlops/tensorboard/") and url.endswith("/")

    page = await fetch_url(url)
    assert page.code == 200 and b"<title>TensorBoard</title>" in page.body
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
    cookies = [c.split("=")[0] for c in page.headers.get_list("Set-Cookie")]
    assert all(c == "_xsrf" or c.startswith("username-") for c in cookies), cookies  # Jupyter's own only

    runs = await fetch_url(url + "data/plugin/projector/runs")
    assert json.loads(runs.body) == ["run"]
    name = urllib.parse.quote("embedding:00000")
    tensor = await fetch_url(url + f"data/plugin/projector/tensor?run=run&name={name}")
    values = np.frombuffer(tensor.body, dtype="<f4").reshape(4, 3)
    assert values.tolist() == [[0, 1, 2], [1, 0.5, 0], [2, 2, 2], [3, 0, 1]]
    labels = await fetch_url(url + f"data/plugin/projector/metadata?run=run&name={name}")
    assert labels.body.decode().split() == ["alpha", "beta", "gamma", "delta"]

    listed = await api.get("tensorboards")
    assert [t["logdir"] for t in listed["tensorboards"]] == [str(logdir)]
    again = await show(api, logdir)
    assert again == url  # the same logdir keeps its URL, and its TensorBoard
    assert len((await api.get("tensorboards"))["tensorboards"]) == 1


async def test_time_series_posts_from_the_page_itself_work_and_foreign_ones_are_refused(
    api: MlopsApi, fetch_url: Any, jp_base_url: str, jp_http_port: int, logdir: Path, jp_serverapp: Any
) -> None:
    from jupyter_mlops.tensorboards.files import write_scalar

    for i, loss in enumerate([1.0, 0.5]):
        write_scalar(str(logdir / "run"), "loss", loss, i)
    url = await show(api, logdir)
    await fetch_url(url)
    client = AsyncHTTPClient()
    target = f"http://127.0.0.1:{jp_http_port}{url}data/plugin/timeseries/timeSeries"
    body = urllib.parse.urlencode({"requests": json.dumps([{"plugin": "scalars", "tag": "loss"}])})
    cookie = await login_cookie(jp_serverapp, jp_http_port, jp_base_url)
    here = f"127.0.0.1:{jp_http_port}"
    own = {"Cookie": cookie, "Origin": f"http://{here}", "Host": here,
           "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip

    async def post(headers: dict[str, str]) -> int:
        return (await client.fetch(target, method="POST", body=body, headers=headers, raise_error=False)).code

    answer = await client.fetch(target, method="POST", body=body, headers=own, raise_error=False)
    assert answer.code == 200, answer.body
    series = json.loads(answer.body)
    assert series[0]["tag"] == "loss" and "runToSeries" in series[0]

    foreign = dict(own, Origin="http://evil.example")
    refused = await client.fetch(target, method="POST", body=body, headers=foreign, raise_error=False)
    assert refused.code == 403
    no_origin = {k: v for k, v in own.items() if k != "Origin"}
    assert (
        await client.fetch(target, method="POST", body=body, headers=no_origin, raise_error=False)
    ).code == 403
    referer = dict(no_origin, Referer=f"http://127.0.0.1:{jp_http_port}{url}")
    assert (
        await client.fetch(target, method="POST", body=body, headers=referer, raise_error=False)
    ).code == 200


async def login_cookie(jp_serverapp: Any, port: int, base_url: str) -> str:
    """The login cookie a browser gets from opening Jupyter with its token."""
    client = AsyncHTTPClient()
    token = jp_serverapp.identity_provider.token
    response = await client.fetch(
        f"http://127.0.0.1:{port}{base_url}login", method="POST", follow_redirects=False, raise_error=False,
        body=urllib.parse.urlencode({"password": token, "_xsrf": "x"}), headers={"Cookie": "_xsrf=x"},
    )  # fmt: skip
    cookies = [c.split(";")[0] for c in response.headers.get_list("Set-Cookie")]
    assert any(c.startswith("username-") for c in cookies), (response.code, response.headers)
    return "; ".join(cookies)


async def test_without_a_login_every_method_is_forbidden(
    api: MlopsApi, jp_fetch: Fetch, jp_base_url: str, jp_http_port: int, logdir: Path
) -> None:
    url = await show(api, logdir)
    client = AsyncHTTPClient()
    for method, body in (("GET", None), ("HEAD", None), ("POST", b"requests=[]")):
        response = await client.fetch(
            f"http://127.0.0.1:{jp_http_port}{url}data/runs", method=method, body=body,
            headers={"Origin": f"http://127.0.0.1:{jp_http_port}"}, follow_redirects=False, raise_error=False,
        )  # fmt: skip
        assert response.code == 403, (method, response.code)


def start_recorder() -> tuple[dict[str, Any], HTTPServer]:
    """An HTTP server on 127.0.0.1 that records every request it gets (a stand-in for 'elsewhere')."""
    seen: dict[str, Any] = {"requests": []}

    class Record(tornado.web.RequestHandler):
        def prepare(self) -> None:
            seen["requests"].append((self.request.method, self.request.uri, dict(self.request.headers)))
            self.finish("recorded")

    sock, port = bind_unused_port()
    server = HTTPServer(tornado.web.Application([(r".*", Record)]))
    server.add_sockets([sock])
    seen["port"] = port
    return seen, server


async def test_urls_reach_only_registered_tensorboards(
    api: MlopsApi, jp_fetch: Fetch, jp_base_url: str, jp_http_port: int, logdir: Path
) -> None:
    recorder, server = start_recorder()
    url = await show(api, logdir)
    tb_id = url.rstrip("/").rsplit("/", 1)[1]
    elsewhere = f"127.0.0.1:{recorder['port']}"
    root = f"http://127.0.0.1:{jp_http_port}{jp_base_url}mlops/tensorboard/"
    token = {"Authorization": f"token {_token_of(jp_fetch)}"}
    tricks = [
        "0123456789ab/",  # well-formed, never registered
        f"{elsewhere}/",
        f"{tb_id}@{elsewhere}/",
        f"@{elsewhere}/",
        f"{tb_id}/..%2F..%2F..%2Fapi%2Fcontents",
        f"{tb_id}/%2e%2e/%2e%2e/api/contents",
        f"{tb_id}/%252e%252e/x",
        f"{tb_id}/%2F%2F{elsewhere}/x",
        f"{tb_id}/http://{elsewhere}/x",
        f"{tb_id}%2F..%2F{elsewhere}/",
        f"{tb_id}:{recorder['port']}/",
        "..%2F..%2Fapi/contents/",
    ]
    client = AsyncHTTPClient()
    for trick in tricks:
        response = await client.fetch(root + trick, headers=token, follow_redirects=False, raise_error=False)
        assert response.code == 404, (trick, response.code, response.body[:200])
        assert b"recorded" not in response.body and b'"content"' not in response.body
    assert recorder["requests"] == []
    server.stop()


def _token_of(jp_fetch: Any) -> str:
    for cell in jp_fetch.__closure__ or ():
        value = cell.cell_contents
        if isinstance(value, dict) and "Authorization" in value:
            return str(value["Authorization"]).split()[-1]
    raise AssertionError("no token in jp_fetch")


async def test_no_cookie_or_credential_reaches_tensorboard(
    api: MlopsApi, fetch_url: Any, jp_serverapp: Any, logdir: Path
) -> None:
    url = await show(api, logdir)
    assert (await fetch_url(url)).code == 200  # started
    recorder, server = start_recorder()
    # The instance's port now leads to the recorder: what the proxy sends upstream is seen there.
    instance = next(iter(manager_of(extension(jp_serverapp))._instances.values()))
    real_port, instance.port = instance.port, recorder["port"]
    try:
        sent = {"Cookie": "secret=1; username-x=y", "X-XSRFToken": "t", "Accept": "text/html",
                "X-Forwarded-For": "1.2.3.4", "Accept-Language": "fr"}  # fmt: skip
        response = await fetch_url(url + "data/runs?x=1", headers=sent)
        assert response.code == 200 and response.body == b"recorded"
    finally:
        instance.port = real_port
        server.stop()
    [(method, uri, headers)] = recorder["requests"]
    assert method == "GET" and uri.endswith("/data/runs?x=1") and uri.startswith("/mlops/tensorboard/")
    lowered = {k.lower() for k in headers}
    assert not lowered & {"cookie", "authorization", "x-xsrftoken", "x-forwarded-for"}, headers
    assert headers["Accept-Language"] == "fr"


async def test_a_dead_tensorboard_is_started_again_never_shown_dead(
    api: MlopsApi, fetch_url: Any, logdir: Path
) -> None:
    url = await show(api, logdir)
    assert (await fetch_url(url + "data/plugin/projector/runs")).code == 200
    [first] = (await api.get("tensorboards"))["tensorboards"]
    os.kill(first["pid"], signal.SIGKILL)
    for _ in range(100):  # until the kernel has reaped it
        try:
            os.kill(first["pid"], 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)

    again = await fetch_url(url + "data/plugin/projector/runs")
    assert again.code == 200 and json.loads(again.body) == ["run"]
    [second] = (await api.get("tensorboards"))["tensorboards"]
    assert second["pid"] != first["pid"] and second["running"]


async def test_stop_one_and_all_with_the_server(
    api: MlopsApi, fetch_url: Any, jp_serverapp: Any, logdir: Path, tmp_path: Path
) -> None:
    url = await show(api, logdir)
    other = tmp_path / "other"
    mlops.log_embedding([[1.0, 2.0]], ["only"], logdir=other)
    other_url = await show(api, other)
    assert (await fetch_url(url)).code == 200 and (await fetch_url(other_url)).code == 200
    pids = {t["id"]: t["pid"] for t in (await api.get("tensorboards"))["tensorboards"]}
    assert len(pids) == 2

    first = url.rstrip("/").rsplit("/", 1)[1]
    code, body = await api.call("DELETE", f"tensorboards/{first}")
    assert code == 200 and body == {"id": first, "stopped": True}
    assert [t["id"] for t in (await api.get("tensorboards"))["tensorboards"]] != [first]
    assert (await api.call("DELETE", f"tensorboards/{first}"))[0] == 404
    assert (await api.call("DELETE", "tensorboards/not-an-id"))[0] == 404

    await extension(jp_serverapp).stop_extension()
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_the_api_refuses_what_is_not_a_folder_or_a_run(api: MlopsApi, tmp_path: Path) -> None:
    for body, message in (
        ({}, "either 'logdir'"),
        ({"logdir": str(tmp_path / "missing")}, "must name a folder"),
        ({"logdir": str(tmp_path), "run": "r"}, "either 'logdir'"),
        ({"run": 5}, "must be strings"),
        ({"logdir": "bad\u0000name"}, "must name a folder"),
        ({"logdir": "x" * 5000}, "must name a folder"),
    ):
        code, answer = await api.call("POST", "tensorboards", body)
        assert code == 400 and message in answer["message"], (body, answer)
    code, answer = await api.call("POST", "tensorboards", {"run": "no-such-run"})
    assert code == 404, answer


async def test_a_notebook_shows_tensorboard_through_the_server_that_started_its_kernel(
    fetch_url: Any, jp_base_url: str, logdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server runs in this process: a kernel it started would have this pid as JPY_PARENT_PID.
    monkeypatch.setenv("JPY_PARENT_PID", str(os.getpid()))
    view = mlops.tensorboard(logdir)
    assert view.how == "proxy" and view.url == f"{jp_base_url}mlops/tensorboard/{view.id}/"
    html = view._repr_html_()
    assert f"<iframe src='{view.url}'" in html and "Open in TensorBoard" in html
    runs = await fetch_url(f"{view.url}data/plugin/projector/runs")
    assert runs.code == 200 and json.loads(runs.body) == ["run"]


async def test_a_real_kernel_of_this_server_shows_it_inline(
    jp_serverapp: Any, fetch_url: Any, jp_base_url: str, logdir: Path
) -> None:
    km = jp_serverapp.kernel_manager
    kernel_id = await km.start_kernel(kernel_name="python3")
    client = km.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=120)
        outputs: list[dict[str, Any]] = []
        code = f"import jupyter_mlops as mlops\nmlops.tensorboard({str(logdir)!r}, dashboard='projector')"
        reply = await client.execute_interactive(code, output_hook=outputs.append, timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        await km.shutdown_kernel(kernel_id)
    [html] = [m["content"]["data"]["text/html"] for m in outputs if m["msg_type"] == "execute_result"]
    src = html.split("<iframe src='", 1)[1].split("'", 1)[0]
    assert src.startswith(f"{jp_base_url}mlops/tensorboard/") and src.endswith("/#projector")
    runs = await fetch_url(src.split("#")[0] + "data/plugin/projector/runs")
    assert runs.code == 200 and json.loads(runs.body) == ["run"]

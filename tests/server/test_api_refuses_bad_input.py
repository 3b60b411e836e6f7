"""Bad input gets a 4xx whose JSON `message` says what is wrong; nothing outside the server's root or
the artifact root is read; a cookie-authenticated POST needs the XSRF token."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from jupyter_mlops.backends.local import LocalBackend

from .conftest import TWO_STEPS, MlopsApi, write_notebook


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"limit": "many"}, "'limit' must be an integer"),
        ({"limit": 0}, "'limit' must be between 1 and 500"),
        ({"offset": -1}, "'offset' must be between 0 and"),
        ({"offset": 10**30}, "'offset' must be between 0 and"),
        ({"state": "DONE"}, "unknown run state 'DONE'"),
    ],
)
async def test_a_bad_runs_query_is_a_400_that_says_what_is_wrong(
    api: MlopsApi, params: dict[str, Any], says: str
) -> None:
    code, body = await api.call("GET", "runs", **params)

    assert code == 400 and says in body["message"]


# A sub-DAG whose task runs the sub-DAG itself: endless, not a pipeline.
SELF_DAG = """
pipelineInfo: {name: loop}
root: {dag: {tasks: {outer: {taskInfo: {name: outer}, componentRef: {name: comp-loop}}}}}
components:
  comp-loop: {dag: {tasks: {inner: {taskInfo: {name: inner}, componentRef: {name: comp-loop}}}}}
"""


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ("not json", 400, "not JSON"),
        ([1, 2], 400, "must be a JSON object"),
        ({}, 400, "exactly one of 'notebook'"),
        ({"notebook": "a.ipynb", "pipeline_yaml": "x"}, 400, "exactly one of 'notebook'"),
        ({"notebook": "a.ipynb", "colour": "red"}, 400, "unknown fields ['colour']"),
        ({"notebook": "a.ipynb", "arguments": [1]}, 400, "'arguments' must be a JSON object"),
        ({"notebook": "../outside.ipynb"}, 403, "outside the server's root"),
        ({"notebook": "work/../../outside.ipynb"}, 403, "outside the server's root"),
        ({"notebook": "/etc/passwd"}, 400, "must be relative"),
        ({"notebook": "missing.ipynb"}, 404, "no notebook 'missing.ipynb'"),
        ({"notebook": "notes.txt"}, 400, "not a .ipynb file"),
        ({"notebook": "n" * 300 + ".ipynb"}, 400, "over 255 bytes"),
        ({"notebook": "日" * 90 + ".ipynb"}, 400, "over 255 bytes"),  # 96 characters, 276 bytes
        ({"notebook": "d/" * 2100 + "a.ipynb"}, 400, "over 4096 bytes"),
        ({"notebook": "\udc80.ipynb"}, 400, "not valid Unicode"),
        ({"notebook": "empty.ipynb"}, 400, "defines no pipeline steps"),
        ({"pipeline_yaml": "a: [unclosed"}, 400, "not valid YAML"),
        ({"pipeline_yaml": "a: 1"}, 400, "not compiled KFP pipeline IR"),
        ({"pipeline_yaml": "root: 1"}, 400, "'root' must be a mapping"),
        ({"pipeline_yaml": "root: null"}, 400, "'root' must be a mapping"),
        ({"pipeline_yaml": "pipelineSpec: {root: 5}"}, 400, "'root' must be a mapping"),
        ({"pipeline_yaml": "root: {dag: {tasks: [1]}}"}, 400, "'root.dag.tasks' must be a mapping"),
        (
            {"pipeline_yaml": "root: {dag: {tasks: {a: {componentRef: 5}}}}"},
            400,
            "'root.dag.tasks.a.componentRef'",
        ),
        ({"pipeline_yaml": SELF_DAG}, 400, "component 'comp-loop' contains itself"),
    ],
)
async def test_a_bad_run_request_is_refused_and_names_the_problem(
    api: MlopsApi, jp_root_dir: Path, body: Any, code: int, says: str
) -> None:
    (jp_root_dir.parent / "outside.ipynb").write_text("{}")
    (jp_root_dir / "notes.txt").write_text("hello")
    write_notebook(jp_root_dir / "empty.ipynb", ["x = 1"])

    answered, reply = await api.call("POST", "runs", body)

    assert answered == code and says in reply["message"], reply


async def test_unknown_runs_steps_and_artifacts_are_404(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, run = await api.call("POST", "runs", {"notebook": "sums.ipynb"})
    run = await api.wait_for(run["id"], {"SUCCEEDED", "FAILED"})

    for path in (
        "runs/nosuchrun",
        "runs/nosuchrun/steps/make/log",
        f"runs/{run['id']}/steps/nosuchstep/log",
        f"runs/{run['id']}/steps/make/artifacts/nosuchartifact",
    ):
        code, body = await api.call("GET", path)
        assert code == 404 and body["message"], (path, body)
    code, body = await api.call("POST", "runs/nosuchrun/cancel")
    assert code == 404


async def test_a_log_offset_past_any_file_is_a_400(api: MlopsApi, jp_root_dir: Path) -> None:
    # Found by schemathesis: seeking past the file system's largest file size fails with EINVAL.
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, run = await api.call("POST", "runs", {"notebook": "sums.ipynb"})
    run = await api.wait_for(run["id"], {"SUCCEEDED", "FAILED"})

    code, body = await api.call("GET", f"runs/{run['id']}/steps/make/log", offset=174386710829844)

    assert code == 400 and "from byte 174386710829844" in body["message"]


async def test_artifact_paths_cannot_leave_the_artifact(
    api: MlopsApi, jp_root_dir: Path, mlops_home: Path
) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, run = await api.call("POST", "runs", {"notebook": "sums.ipynb"})
    run = await api.wait_for(run["id"], {"SUCCEEDED", "FAILED"})
    name = next(a["name"] for a in run["artifacts"] if a["step"] == "make")
    url = f"runs/{run['id']}/steps/make/artifacts/{name}"

    for path in ("../../../../../../etc/passwd", "/etc/passwd", "../../logs/make.log"):
        code, body = await api.call("GET", url, path=path)
        assert code == 403, (path, code, body)

    # A symlink planted inside the artifact that points out of the artifact root.
    backend = LocalBackend(home=mlops_home)
    artifact_dir = Path(next(a.uri for a in backend.artifacts(run["id"], "make") if a.name == name))
    backend.close()
    os.symlink("/etc/passwd", artifact_dir / "escape")
    code, body = await api.call("GET", url, path="escape")
    assert code == 403 and "outside" in body["message"]


async def test_a_cookie_authenticated_post_without_the_xsrf_token_is_refused(
    http_server_client: AsyncHTTPClient, jp_base_url: str, jp_serverapp: Any, jp_root_dir: Path
) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    # Log in as a browser does: the token in the URL once, a cookie afterwards.
    login = await http_server_client.fetch(
        f"{jp_base_url}api/status?token={jp_serverapp.identity_provider.token}", follow_redirects=False
    )
    cookies = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
    assert cookies, "the server set no login cookie"

    with pytest.raises(HTTPClientError) as refused:
        await http_server_client.fetch(
            f"{jp_base_url}mlops/api/runs",
            method="POST",
            body='{"notebook": "sums.ipynb"}',
            headers={"Cookie": cookies, "Authorization": ""},
        )

    assert refused.value.code == 403
    runs = await http_server_client.fetch(f"{jp_base_url}mlops/api/runs", headers={"Cookie": cookies})
    assert b'"total": 0' in runs.body  # the refused POST started nothing


@pytest.mark.parametrize(
    ("last_id", "says"),
    [
        (str(10**30), "'Last-Event-ID' must be between 0 and"),
        ("²", "'Last-Event-ID' must be an integer"),
        ("-3", "'Last-Event-ID' must be between 0 and"),
    ],
)
async def test_a_last_event_id_out_of_range_is_a_400(
    api: MlopsApi, jp_fetch: Any, jp_root_dir: Path, last_id: str, says: str
) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, run = await api.call("POST", "runs", {"notebook": "sums.ipynb"})

    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(
            "mlops", "api", "runs", run["id"], "events",
            params={"follow": "false"}, headers={"Last-Event-ID": last_id},
        )  # fmt: skip

    assert caught.value.code == 400 and caught.value.response is not None
    assert says in json.loads(caught.value.response.body)["message"]


TYPED_PARAMS = [
    "%%pipeline params\nlabel = 'a'\nn = 1\nlr = 0.1\nflag = True\nsizes = [1, 2]\n",
    "%%component use\nprint(label, n, lr, flag, sizes)\n",
]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ([], "'arguments' must be a JSON object"),
        (0, "'arguments' must be a JSON object"),
        (False, "'arguments' must be a JSON object"),
        ("lr=1", "'arguments' must be a JSON object"),
        ({"label": {"a": 1}}, "argument 'label'"),
        ({"label": 3}, "argument 'label'"),
        ({"lr": None}, "argument 'lr'"),
        ({"lr": "fast"}, "argument 'lr'"),
        ({"lr": True}, "argument 'lr'"),
        ({"n": 1.5}, "argument 'n'"),
        ({"n": [1]}, "argument 'n'"),
        ({"flag": 3}, "argument 'flag'"),
        ({"flag": "maybe"}, "argument 'flag'"),
        ({"sizes": {"a": 1}}, "argument 'sizes'"),
    ],
)
async def test_arguments_are_typed_by_the_pipelines_parameters(
    api: MlopsApi, jp_root_dir: Path, arguments: Any, says: str
) -> None:
    write_notebook(jp_root_dir / "typed.ipynb", TYPED_PARAMS)

    answered, reply = await api.call("POST", "runs", {"notebook": "typed.ipynb", "arguments": arguments})

    assert answered == 400 and says in reply["message"], reply


async def test_well_typed_arguments_are_taken(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "typed.ipynb", TYPED_PARAMS)
    good = {"label": "b", "n": 2, "lr": 1, "flag": False, "sizes": [3]}

    answered, reply = await api.call("POST", "runs", {"notebook": "typed.ipynb", "arguments": good})

    assert answered == 201, reply
    run = await api.wait_for(reply["id"], {"SUCCEEDED", "FAILED"})
    assert run["state"] == "SUCCEEDED", run


async def test_an_error_message_reads_as_written_with_its_percent_signs(api: MlopsApi) -> None:
    """A 404's message names `%pipeline runs` as the package wrote it: before, tornado's escaping of
    `%` (once per HTTPError made, twice on the way out) answered `%%%%pipeline runs`."""
    code, body = await api.call("GET", "runs/nosuchrun")

    assert code == 404
    assert body["message"] == (
        "no run 'nosuchrun' in the run store $JUPYTER_MLOPS_HOME/store.db (list runs with `%pipeline runs` "
        "or `jupyter-mlops runs`)"
    )


async def test_an_unknown_api_route_is_a_json_404_that_lists_the_routes(jp_fetch: Any) -> None:
    """A typo in a REST client's path (`run` for `runs`): before, the server's HTML 404 page."""
    for method, route in (("GET", "run"), ("GET", "runs/r1/step/s1/log"), ("POST", "cancel")):
        kwargs: dict[str, Any] = {"method": method}
        if method == "POST":
            kwargs["body"] = "{}"
        with pytest.raises(HTTPClientError) as caught:
            await jp_fetch("mlops", "api", *route.split("/"), **kwargs)
        response = caught.value.response
        assert response is not None and response.code == 404
        assert response.headers["Content-Type"].startswith("application/json")
        message = json.loads(response.body)["message"]
        assert f"no route mlops/api/{route} for {method}" in message and "runs/RUN/events" in message
    assert json.loads((await jp_fetch("mlops", "api", "status")).body)["reachable"] is True

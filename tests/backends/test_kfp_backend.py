"""The kfp backend beyond the contract, through the real kfp.Client against the stand-in KFP server
(tests/kfp_standin): connection errors, credentials and namespaces, the very YAML submitted, state
mapping, retry, paging, and a server that fails, slows down, forgets a run or goes away."""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format
from kfp import compiler, dsl, kubernetes
from kfp.pipeline_spec import pipeline_spec_pb2
from kfp_standin import Fault, StandIn
from waiting import wait_until

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.errors import BackendError, RunNotFound, Unsupported, UsageError
from jupyter_mlops.models import RunState, StepState

from .contract import finished, succeeded

Specs = dict[str, str]


@dsl.component(base_image="python:3.11")
def needs_file(path: str) -> str:
    import os

    if not os.path.exists(path):
        raise RuntimeError(f"{path} is not there yet")
    return "found"


@dsl.component(base_image="python:3.11")
def one() -> int:
    return 1


@dsl.pipeline(name="flaky")
def flaky(path: str) -> None:
    first = one()
    needs_file(path=path).after(first)


@dsl.pipeline(name="placed")
def placed() -> None:
    task = one()
    kubernetes.add_node_selector(task, label_key="pool", label_value="spot")


def _compiled(pipeline: object, tmp_path: Path) -> str:
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    return path.read_text()


@pytest.fixture
def backend(standin: StandIn) -> Iterator[KfpBackend]:
    made = KfpBackend(host=standin.url)
    yield made
    made.close()


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


# -- connecting ---------------------------------------------------------------------------------------


def test_configuration_comes_from_the_options_then_kfp_host(
    standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KFP_HOST", standin.url + "/")
    from_env = KfpBackend()
    assert from_env.conn.host == standin.url and from_env.status().reachable
    assert from_env.run_url("abc") == f"{standin.url}/#/runs/details/abc"
    monkeypatch.delenv("KFP_HOST")
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    with pytest.raises(UsageError, match="needs the KFP server's URL") as caught:
        KfpBackend()
    _one_line(caught)
    with pytest.raises(UsageError, match="must start with http"):
        KfpBackend(host="ml-pipeline:8888")


def test_an_unreachable_server_is_one_line_naming_it() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(
        BackendError, match=rf"127.0.0.1:{port} is unreachable.*connection refused.*--host"
    ) as c:
        KfpBackend(host=f"http://127.0.0.1:{port}")
    _one_line(c)


def test_a_server_older_than_kfp_2_says_so(tmp_path: Path, home: Path) -> None:
    old = StandIn(tmp_path / "old", api="v1beta1")
    old.start()
    try:
        with pytest.raises(BackendError, match=r"no Kubeflow Pipelines v2beta1 API.*older than KFP 2.0") as c:
            KfpBackend(host=old.url)
        _one_line(c)
    finally:
        old.stop()


def test_tokens_and_namespaces_of_a_multi_user_kubeflow(tmp_path: Path, home: Path, specs: Specs) -> None:
    server = StandIn(tmp_path / "mu", tokens={"alice-token": {"team-a"}}, multi_user=True)
    server.start()
    try:
        with pytest.raises(BackendError, match=r"refused our credentials.*401 Unauthorized") as c:
            KfpBackend(host=server.url, namespace="team-a")
        _one_line(c)
        with pytest.raises(BackendError, match=r"401"):
            KfpBackend(host=server.url, namespace="team-a", existing_token="stolen")
        wrong = KfpBackend(host=server.url, namespace="team-b", existing_token="alice-token")
        with pytest.raises(BackendError, match=r"denied access to namespace 'team-b'.*403.*--namespace") as c:
            wrong.submit(specs["arith"])
        _one_line(c)
        assert not wrong.status().reachable and "403" in (wrong.status().message or "")

        right = KfpBackend(host=server.url, namespace="team-a", existing_token="alice-token")
        run = succeeded(right, right.submit(specs["arith"], {"a": 3}, experiment="mine").id)
        assert run.experiment == "mine" and run.backend == "kfp"
        [experiment] = [e for e in server.cluster.experiments.values() if e.display_name == "mine"]
        assert experiment.namespace == "team-a"  # made on demand, in the user's namespace
        assert [r.id for r in right.list_runs().runs] == [run.id]
        status = right.status()
        assert (
            status.reachable and status.runs == 1 and "multi-user, namespace team-a" in (status.message or "")
        )

        server.tokens = {"alice-token-2": {"team-a"}}  # the token expired
        with pytest.raises(BackendError, match="401") as c:
            right.list_runs()
        _one_line(c)
    finally:
        server.stop()


# -- what is submitted ----------------------------------------------------------------------------------


def test_the_server_gets_the_very_yaml_the_local_backend_runs(
    backend: KfpBackend, standin: StandIn, specs: Specs, tmp_path: Path
) -> None:
    for text in (specs["arith"], _compiled(placed, tmp_path)):
        run = backend.submit(text, {"a": 4} if "arith" in text else {})
        sent = standin.cluster.record(run.id).pipeline_spec
        documents = list(yaml.safe_load_all(text))
        spec = json_format.MessageToDict(
            json_format.ParseDict(documents[0], pipeline_spec_pb2.PipelineSpec())
        )
        if len(documents) == 1:
            assert sent == spec
        else:  # the platform config (node selector) travels too
            platform = json_format.ParseDict(documents[1], pipeline_spec_pb2.PlatformSpec())
            assert sent == {"pipeline_spec": spec, "platform_spec": json_format.MessageToDict(platform)}
            node = sent["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
            assert node["exec-one"]["nodeSelector"] == {"labels": {"pool": "spot"}}
        assert succeeded(backend, run.id).state is RunState.SUCCEEDED
    assert standin.cluster.record(run.id).runtime_config == {"parameters": {}}


def test_bad_arguments_never_reach_the_server(backend: KfpBackend, standin: StandIn, specs: Specs) -> None:
    before = list(standin.requests)
    with pytest.raises(UsageError, match="lr"):
        backend.submit(specs["arith"], {"lr": 0.1})
    assert standin.requests == before


# -- states -------------------------------------------------------------------------------------------


def test_a_second_run_is_answered_from_the_cache(backend: KfpBackend, specs: Specs) -> None:
    succeeded(backend, backend.submit(specs["arith"], {"a": 9}).id)
    again = succeeded(backend, backend.submit(specs["arith"], {"a": 9}).id)
    assert {s.name: s.state for s in again.steps} == {"add": StepState.CACHED, "add-2": StepState.CACHED}
    fresh = succeeded(backend, backend.submit(specs["arith"], {"a": 9}, cache=False).id)
    assert {s.state for s in fresh.steps} == {StepState.SUCCEEDED}


def test_kfp_states_map_to_ours() -> None:
    import kfp_server_api as k

    from jupyter_mlops.backends.kfp.convert import run_state, step_state

    assert run_state("RUNTIME_STATE_UNSPECIFIED") is RunState.PENDING
    assert run_state("PAUSED") is RunState.RUNNING
    assert run_state("CANCELING") is RunState.CANCELING
    assert step_state("CANCELING") is StepState.CANCELING
    cache_hit = k.V2beta1PipelineTaskExecutorDetail(pre_caching_check_job="p-driver", main_job="")
    assert step_state("SKIPPED", cache_hit) is StepState.CACHED
    assert step_state("SKIPPED", None) is StepState.SKIPPED
    ran = k.V2beta1PipelineTaskExecutorDetail(pre_caching_check_job="p-driver", main_job="p-main")
    assert step_state("SKIPPED", ran) is StepState.SKIPPED


def test_a_failed_run_is_retried_in_place(backend: KfpBackend, tmp_path: Path) -> None:
    marker = tmp_path / "arrived.txt"
    run = finished(backend, backend.submit(_compiled(flaky, tmp_path), {"path": str(marker)}).id)
    assert run.state is RunState.FAILED and "is not there yet" in (run.step("needs-file").error or "")
    with pytest.raises(UsageError, match="only a failed or cancelled run"):
        backend.retry(succeeded(backend, backend.submit(_compiled(placed, tmp_path)).id).id)
    marker.write_text("here")
    backend.retry(run.id)
    again = succeeded(backend, run.id)  # the same run id
    assert (
        again.step("one").state is StepState.CACHED and again.step("needs-file").state is StepState.SUCCEEDED
    )
    states = [e.state for e in backend.events(run.id) if e.kind == "run"]
    assert states.index("FAILED") < len(states) - 1 and states[-1] == "SUCCEEDED"


# -- listing ------------------------------------------------------------------------------------------


def test_pages_follow_the_servers_page_tokens(
    backend: KfpBackend, standin: StandIn, specs: Specs, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [backend.submit(specs["arith"], {"a": i}, experiment="paged").id for i in range(5)]
    backend.submit(specs["arith"], experiment="elsewhere")
    seen = []
    offset: int | None = 0
    while offset is not None:
        before = len([r for r in standin.requests if r.startswith("GET /apis/v2beta1/runs?")])
        page = backend.list_runs(experiment="paged", limit=2, offset=offset)
        after = len([r for r in standin.requests if r.startswith("GET /apis/v2beta1/runs?")])
        assert after - before <= 2 and page.total == 5
        seen += [r.id for r in page.runs]
        offset = page.next_offset
    assert seen == ids[::-1]  # newest first, each once
    first = backend.list_runs(experiment="paged", limit=2)
    newer = backend.submit(specs["arith"], experiment="paged").id  # a run made while paging
    rest = backend.list_runs(experiment="paged", limit=10, cursor=first.next_cursor)
    assert [r.id for r in rest.runs] == ids[::-1][2:] and rest.next_cursor is None  # nothing shifted
    ids.append(newer)
    from jupyter_mlops.backends.kfp import listing

    monkeypatch.setattr(listing, "MAX_PAGE", 2)  # an offset past the largest page a server gives
    assert [r.id for r in backend.list_runs(experiment="paged", limit=2, offset=3).runs] == ids[::-1][3:5]
    assert backend.list_runs(experiment="no-such-experiment").total == 0
    done = [finished(backend, run_id).state for run_id in ids]
    listed = backend.list_runs(experiment="paged", state=RunState.SUCCEEDED)
    assert listed.total == done.count(RunState.SUCCEEDED) > 0
    assert backend.list_runs(state=RunState.RUNNING).runs == [] or all(
        r.state is RunState.RUNNING for r in backend.list_runs(state=RunState.RUNNING).runs
    )


# -- faults -------------------------------------------------------------------------------------------


def test_server_faults_are_clear_and_nothing_hangs(standin: StandIn, specs: Specs) -> None:
    backend = KfpBackend(host=standin.url, timeout=1.0, refresh=0)  # every read goes to the server
    run_id = backend.submit(specs["arith"]).id
    standin.inject(Fault(match=f"GET /apis/v2beta1/runs/{run_id}", status=500))
    with pytest.raises(BackendError, match=r"failed while reading run .*\(500: injected fault\)") as c:
        backend.get(run_id)
    _one_line(c)
    standin.inject(Fault(match=f"GET /apis/v2beta1/runs/{run_id}", delay=3.0))
    assert backend.get(run_id).id == run_id  # one slow answer: the client's retry gets the next one
    standin.inject(Fault(match=f"GET /apis/v2beta1/runs/{run_id}", delay=3.0, times=10))
    with pytest.raises(BackendError, match=r"unreachable while reading run .*timed out") as c:
        backend.get(run_id)
    _one_line(c)
    standin.inject(Fault(match=f"GET /apis/v2beta1/runs/{run_id}", drop=True, times=10))
    with pytest.raises(BackendError, match="unreachable while reading run") as c:
        backend.get(run_id)
    _one_line(c)
    standin.faults.clear()
    succeeded(backend, run_id)  # and it keeps working

    standin.cluster.delete_run(run_id)  # deleted on the server
    with pytest.raises(RunNotFound, match=f"no run '{run_id}' on the KFP server"):
        backend.get(run_id)

    standin.stop(close_cluster=False)  # the server goes away
    status = backend.status()
    assert not status.reachable and "unreachable" in (status.message or "")
    with pytest.raises(BackendError, match="unreachable") as c:
        backend.list_runs()
    _one_line(c)
    backend.close()


def test_polling_views_cost_the_server_one_request_per_refresh(
    backend: KfpBackend, standin: StandIn, specs: Specs
) -> None:
    clock = [1000.0]
    backend._clock = lambda: clock[0]  # a clock the test moves, instead of waiting
    run_id = backend.submit(specs["sleepy"], {"seconds": 60}).id

    def reads() -> int:
        return sum(1 for r in standin.requests if r == f"GET /apis/v2beta1/runs/{run_id}")

    for _ in range(50):  # a run view and the server's event stream, polling
        backend.events(run_id, after=0)
        backend.get(run_id)
    assert reads() == 1
    clock[0] += backend.refresh
    backend.events(run_id)
    assert reads() == 2
    cancelled = backend.cancel(run_id)  # a change made here is read back at once
    assert cancelled.state in (RunState.CANCELING, RunState.CANCELED) and reads() == 3


def test_what_the_api_cannot_give_points_to_the_kfp_ui(tmp_path: Path, home: Path, specs: Specs) -> None:
    api_only = StandIn(tmp_path / "api-only", ui=False)  # the API server alone: no UI log endpoint
    api_only.start()
    backend = KfpBackend(host=api_only.url)
    run = succeeded(backend, backend.submit(specs["dataset"], {"count": 2}).id)
    assert backend.capabilities.logs is False
    with pytest.raises(
        Unsupported, match=rf"not readable through its API.*#/runs/details/{run.id}.*ml-pipeline-ui"
    ):
        backend.logs(run.id, "write-lines")
    with pytest.raises(Unsupported, match=rf"object store.*#/runs/details/{run.id}"):
        backend.open_artifact(run.id, "write-lines", "data")
    with pytest.raises(Unsupported, match="not recorded on the kfp backend"):
        backend.log_session_metric("loss", 1.0, None, 0.0)
    [data] = backend.artifacts(run.id, "write-lines")
    assert data.name == "data" and "/#/artifacts/" in data.uri
    backend.close()
    api_only.stop()


def test_step_logs_come_from_the_kfp_uis_pod_log_endpoint(
    backend: KfpBackend, standin: StandIn, specs: Specs
) -> None:
    assert backend.capabilities.logs is True  # probed once: the host is the KFP UI's server
    run_id = backend.submit(specs["sleepy"], {"seconds": 3}).id
    wait_until(lambda: "napping" in backend.logs(run_id, "nap").text, 120, "the nap step's first line")
    running = backend.logs(run_id, "nap")
    assert not running.complete and running.text.endswith("\n")
    succeeded(backend, run_id)
    whole = backend.logs(run_id, "nap")
    assert whole.complete and "napping" in whole.text
    tail = backend.logs(run_id, "nap", whole.text.encode().index(b"napping"))
    assert tail.text.startswith("napping") and tail.next_offset == whole.next_offset
    asked = [r for r in standin.requests if r.startswith("GET /k8s/pod/logs?")]
    assert asked and all(f"runid={run_id}" in r for r in asked)
    backend.logs(run_id, "nap")
    assert len([r for r in standin.requests if r.startswith("GET /k8s/pod/logs?")]) == len(asked)  # kept

    again = succeeded(backend, backend.submit(specs["sleepy"], {"seconds": 3}).id)
    assert again.step("add").state is StepState.CACHED
    assert "taken from the cache" in backend.logs(again.id, "add").text


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-05-02T08:10:33Z", 1714637433.0),  # what the KFP API server writes
        ("2024-05-02T08:10:33.5Z", 1714637433.5),  # Go drops trailing zeros of the fraction
        ("2024-05-02T08:10:33.123456789Z", 1714637433.123456),  # and writes up to nanoseconds
        ("2024-05-02T10:10:33.25+02:00", 1714637433.25),
        ("1970-01-01T00:00:00Z", None),  # Go's zero time: not set
        ("not a time", None),
    ],
)
def test_kfp_timestamps_as_go_writes_them_read_on_every_python(stamp: str, expected: float | None) -> None:
    # Python 3.10's datetime.fromisoformat takes only 3 or 6 fractional digits (3.11 takes any).
    from jupyter_mlops.backends.kfp.convert import seconds

    assert seconds(stamp) == expected

"""Faults between the notebook and a KFP server, against the stand-in KFP server (tests/kfp_standin):
the server going away mid-run and coming back, a bearer token that expires (and a service-account
token the kubelet renews on disk), a run deleted on the server. `run.wait()` and the live run view say
so in one line, keep working when the server is back, and never hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kfp_standin import StandIn
from waiting import wait_until

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.errors import BackendError, BackendUnavailable, RunNotFound
from jupyter_mlops.models import RunState
from jupyter_mlops.run_handle import Run
from jupyter_mlops.widgets.run_widget import RunView

Specs = dict[str, str]


def _restart(server: StandIn) -> None:
    """The server comes back on the same address, with the runs it had (a pod restarted)."""
    port = int(server.url.rsplit(":", 1)[1])
    server.stop(close_cluster=False)
    time.sleep(0.2)
    server.start(port)


def _away(server: StandIn) -> int:
    port = int(server.url.rsplit(":", 1)[1])
    server.stop(close_cluster=False)
    return port


def test_wait_rides_out_a_server_that_goes_away_and_comes_back(standin: StandIn, specs: Specs) -> None:
    backend = KfpBackend(host=standin.url, timeout=2.0, refresh=0)
    run = Run(backend, backend.submit(specs["sleepy"], {"seconds": 4}).id)
    port = _away(standin)
    outcome: list[object] = []
    import threading

    waiter = threading.Thread(target=lambda: outcome.append(run.wait(grace=60).state), daemon=True)
    waiter.start()
    time.sleep(2.5)  # the waiter has met the closed port at least twice
    assert waiter.is_alive() and not outcome
    standin.start(port)
    waiter.join(timeout=120)
    assert outcome == [RunState.SUCCEEDED]  # the run went on while the server was away
    backend.close()


def test_wait_gives_up_on_a_server_gone_for_good_in_one_line(standin: StandIn, specs: Specs) -> None:
    backend = KfpBackend(host=standin.url, timeout=2.0, refresh=0)
    run = Run(backend, backend.submit(specs["sleepy"], {"seconds": 60}).id)
    _away(standin)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        run.wait(grace=1.5)
    text = str(caught.value)
    assert time.monotonic() - started < 30  # bounded by the grace, not by the run's 60 s
    assert "\n" not in text and f"run {run.id}: stopped waiting after 1.5 s" in text
    assert "is unreachable" in text and "call .wait() again once the server is back" in text
    standin.start()  # (a new port: the old backend keeps naming the old one)
    backend.close()


def test_an_expired_token_is_said_at_once_and_a_new_one_works(
    tmp_path: Path, home: Path, specs: Specs
) -> None:
    server = StandIn(tmp_path / "mu", tokens={"morning": {"*"}})
    server.start()
    try:
        backend = KfpBackend(host=server.url, existing_token="morning", refresh=0)
        run = Run(backend, backend.submit(specs["sleepy"], {"seconds": 30}).id)
        server.tokens = {"afternoon": {"*"}}  # the token expired on the server
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"refused our credentials.*401.*expired") as caught:
            run.wait()
        assert time.monotonic() - started < 10 and not isinstance(caught.value, BackendUnavailable)
        again = KfpBackend(host=server.url, existing_token="afternoon", refresh=0)  # the user's new token
        assert again.get(run.id).state in (RunState.RUNNING, RunState.PENDING)
        again.cancel(run.id)
        backend.close()
        again.close()
    finally:
        server.stop()


def test_a_service_account_token_renewed_on_disk_keeps_working(
    tmp_path: Path, home: Path, specs: Specs, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("sa-token-1\n")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token_file))  # as mounted in a Kubeflow pod
    server = StandIn(tmp_path / "sa", tokens={"sa-token-1": {"*"}})
    server.start()
    try:
        backend = KfpBackend(host=server.url, refresh=0)
        run_id = backend.submit(specs["arith"]).id
        server.tokens = {"sa-token-2": {"*"}}  # the projected token expired...
        token_file.write_text("sa-token-2\n")  # ...and the kubelet wrote its successor
        assert backend.get(run_id).id == run_id and backend.status().reachable
        server.tokens = {"sa-token-3": {"*"}}  # expired, and nobody renewed it
        with pytest.raises(BackendError, match=rf"refused the service-account token in {token_file}.*401"):
            backend.get(run_id)
        assert "401" in (backend.status().message or "")
        backend.close()
    finally:
        server.stop()


def test_a_run_deleted_on_the_server(standin: StandIn, specs: Specs) -> None:
    backend = KfpBackend(host=standin.url, refresh=0)
    run = Run(backend, backend.submit(specs["sleepy"], {"seconds": 60}).id)
    standin.cluster.delete_run(run.id)
    with pytest.raises(RunNotFound, match=rf"no run '{run.id}' on the KFP server .*deleted there"):
        run.wait()
    assert backend.list_runs().total == 0  # the rest keeps working
    backend.close()


def test_the_live_run_view_says_what_went_wrong_and_recovers(standin: StandIn, specs: Specs) -> None:
    backend = KfpBackend(host=standin.url, timeout=2.0, refresh=0.2)
    run_id = backend.submit(specs["sleepy"], {"seconds": 5}).id
    view = RunView(backend, run_id, live=True)
    try:
        port = _away(standin)
        wait_until(lambda: "unreachable" in view.message, 30, "the view to say the server is unreachable")
        assert "\n" not in view.message and "showing the last state seen" in view.message
        assert view.polling  # still following
        standin.start(port)
        wait_until(lambda: view.run["state"] == "SUCCEEDED", 120, "the view to show the run's end")
        assert view.message == "" and not view.polling
    finally:
        view.close()

    standin.tokens = {"someone-else": {"*"}}  # our credentials stop working mid-run
    standin.tokens = None
    run_id = backend.submit(specs["sleepy"], {"seconds": 60}).id
    view = RunView(backend, run_id, live=True)
    try:
        standin.tokens = {"someone-else": {"*"}}
        wait_until(lambda: "401" in view.message, 30, "the view to say 401")
        assert "refused our credentials" in view.message and view.polling
        standin.tokens = None
        standin.cluster.delete_run(run_id)  # and then the run is deleted on the server
        wait_until(lambda: not view.polling, 30, "the view to stop")
        assert (
            view.message.startswith("stopped following the run: no run") and "deleted there" in view.message
        )
    finally:
        view.close()
    backend.close()

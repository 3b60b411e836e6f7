"""What listing runs costs a KFP server, counted on the stand-in KFP server (tests/kfp_standin): the
first page of `%pipeline runs` (the runs table) and of the sidebar's `GET mlops/api/runs` is at most
two requests (the page of runs, and one page of experiments for their names), whatever the number of
experiments the page's runs are in, and no request per run (bench/kfp_listing.py measures it at
10,000 runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kfp_standin import Fault, StandIn
from waiting import wait_until

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.widgets import runs_table

from .contract import finished

Specs = dict[str, str]


def test_the_first_page_of_runs_costs_two_requests(standin: StandIn, specs: Specs) -> None:
    maker = KfpBackend(host=standin.url)
    ids = [maker.submit(specs["arith"], {"a": i}, experiment=f"exp-{i % 3}").id for i in range(6)]
    for run_id in ids:
        finished(maker, run_id)
    maker.close()

    backend = KfpBackend(host=standin.url)  # a new kernel: no experiment names known yet
    before = len(standin.requests)
    table = runs_table(backend)
    asked = standin.requests[before:]
    assert len(asked) <= 2, asked
    assert [r["id"] for r in table.rows] == ids[::-1]
    assert {r["experiment"] for r in table.rows} == {"exp-0", "exp-1", "exp-2"}

    before = len(standin.requests)
    page = backend.list_runs(limit=50)
    assert len(standin.requests) - before == 1 and page.total == 6  # the names are known by now
    backend.close()


def test_the_sidebars_experiments_are_kept_for_a_while(standin: StandIn, specs: Specs) -> None:
    backend = KfpBackend(host=standin.url)
    clock = [100.0]
    backend._clock = lambda: clock[0]  # a clock the test moves, instead of waiting
    backend.submit(specs["arith"], experiment="a")
    backend.submit(specs["arith"], experiment="b")
    before = len(standin.requests)
    counts = {e.name: e.run_count for e in backend.experiments()}
    assert counts["a"] == 1 and counts["b"] == 1
    first = len(standin.requests) - before
    assert first >= 3  # the list, then a count per experiment
    for _ in range(4):  # sidebars asking every 2 s
        clock[0] += 2.0
        backend.experiments()
    assert len(standin.requests) - before == first
    backend.submit(specs["arith"], experiment="a")  # a run made here shows in the counts at once
    assert {e.name: e.run_count for e in backend.experiments()}["a"] == 2
    clock[0] += 10.0
    asked = len(standin.requests)
    backend.experiments()
    assert len(standin.requests) > asked  # and after a while the server is asked again
    backend.close()


def test_a_new_kernel_asks_for_the_page_and_the_experiment_names_side_by_side(
    standin: StandIn, specs: Specs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two requests of a first page overlap: the stand-in holds the page of runs until the
    experiments' listing arrives, which it does only if the client sent it without waiting."""
    maker = KfpBackend(host=standin.url)
    made = maker.submit(specs["arith"], experiment="side-by-side").id
    maker.close()

    held = Fault(match="GET /apis/v2beta1/runs?", hold_until="GET /apis/v2beta1/experiments", delay=20)
    standin.inject(held)
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "another-machine"))
    backend = KfpBackend(host=standin.url)  # knows no experiment yet: the first kernel on its machine
    before = len(standin.requests)
    page = backend.list_runs(limit=10)
    assert held.released.is_set()  # the listing of experiments came while the page was held
    assert len(standin.requests) - before == 2
    assert [(r.id, r.experiment) for r in page.runs] == [(made, "side-by-side")]

    standin.inject(Fault(match="GET /apis/v2beta1/runs?", hold_until="GET /apis/v2beta1/experiments"))
    before = len(standin.requests)
    backend.list_runs(limit=10)
    assert len(standin.requests) - before == 1  # names known: the page alone, nothing beside it
    standin.faults.clear()
    backend.close()


def test_a_listed_run_reads_the_same_from_its_json_as_from_kfp_server_apis_model(
    standin: StandIn, specs: Specs
) -> None:
    """The listing reads each run from the page's plain JSON (convert.summary_of); the run's record read
    through kfp_server_api's models (convert.to_run_info) says the same, in every state."""
    import json
    import urllib.request

    import kfp_server_api

    from jupyter_mlops.backends.kfp.convert import summary_of, to_run_info

    backend = KfpBackend(host=standin.url)
    done = backend.submit(specs["arith"], {"a": 2}, experiment="e").id
    failed = backend.submit(specs["failing"], experiment="e").id
    for run_id in (done, failed):
        finished(backend, run_id)
    running = backend.submit(specs["sleepy"], {"seconds": 60}, experiment="e").id
    # running, not still pending: its record must not change between the listings compared below
    wait_until(lambda: backend.get(running).state.value == "RUNNING", what="the sleepy run to start")
    with urllib.request.urlopen(f"{standin.url}/apis/v2beta1/runs?page_size=10") as answer:
        listed = json.loads(answer.read())["runs"]
    assert {r["run_id"] for r in listed} == {done, failed, running}
    api = kfp_server_api.ApiClient()
    for data in listed:
        text = json.dumps(data)

        class Raw:
            data = text

        model = api.deserialize(Raw(), "V2beta1Run")
        assert summary_of(data, "e") == to_run_info(model, "e", with_steps=False), data["run_id"]
    first, again = backend.list_runs(limit=10).runs, backend.list_runs(limit=10).runs
    assert {r.id: r.state.value for r in first}[done] == "SUCCEEDED"
    assert first == again and all(a is not b for a, b in zip(first, again, strict=True))  # kept, as copies
    backend.cancel(running)
    backend.close()


def test_a_new_kernel_knows_the_experiment_names_an_earlier_one_read(standin: StandIn, specs: Specs) -> None:
    """A KFP experiment's id never changes and the API cannot rename one: names read by one kernel are
    kept on disk (experiment_names.py), so the next kernel's first page is the page alone."""
    maker = KfpBackend(host=standin.url)
    made = [maker.submit(specs["arith"], experiment=f"kept-{i}").id for i in range(2)]
    maker.close()
    KfpBackend(host=standin.url).list_runs(limit=10)  # this one learns every name, and keeps them

    backend = KfpBackend(host=standin.url)  # a new kernel on the same machine
    before = len(standin.requests)
    page = backend.list_runs(limit=10)
    assert len(standin.requests) - before == 1
    assert [(r.id, r.experiment) for r in page.runs] == [(made[1], "kept-1"), (made[0], "kept-0")]
    other = KfpBackend(host=standin.url, namespace="someone-else")  # names are kept per server and namespace
    assert other.experiment_book.knows_none()
    backend.close()
    other.close()

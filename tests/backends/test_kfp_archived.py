"""Runs archived on the KFP server (the KFP UI's "Archive", `kfp.Client().archive_run`) are hidden from
our lists as the KFP UI's runs page hides them (its `storage_state NOT_EQUALS ARCHIVED` filter): in
`%pipeline runs`, the sidebar's pages, the status counts and the experiments' run counts. Restored,
they are listed again. An archived run is still read by id (its link keeps working)."""

from __future__ import annotations

from kfp_standin import StandIn

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.models import RunState

from .contract import finished

Specs = dict[str, str]


def test_archived_runs_are_hidden_from_the_lists_and_counts(standin: StandIn, specs: Specs) -> None:
    backend = KfpBackend(host=standin.url)
    kept, archived = (backend.submit(specs["arith"], {"a": i}, experiment="arch").id for i in range(2))
    for run_id in (kept, archived):
        finished(backend, run_id)
    backend.client.archive_run(archived)  # as the KFP UI's Archive button does

    assert [r.id for r in backend.list_runs().runs] == [kept]
    assert backend.list_runs().total == 1
    assert [r.id for r in backend.list_runs(experiment="arch").runs] == [kept]
    assert [r.id for r in backend.list_runs(state=RunState.SUCCEEDED).runs] == [kept]
    assert backend.status().runs == 1
    backend._experiments = None  # counted again, not the counts kept for the sidebar
    assert {e.name: e.run_count for e in backend.experiments()}["arch"] == 1
    assert backend.get(archived).state is RunState.SUCCEEDED  # still readable by id

    backend.client.unarchive_run(archived)
    assert [r.id for r in backend.list_runs().runs] == [archived, kept]
    backend.close()

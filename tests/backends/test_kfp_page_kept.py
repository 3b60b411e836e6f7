"""A page of KFP runs listed again and again (a sidebar asks for its first page every 2 s): the very
same answer from the KFP server is read once, and any change on the server (a run renamed, archived,
retried, a new run) shows in the next listing, because what is kept is keyed on the answer's bytes."""

from __future__ import annotations

from typing import Any

import pytest
from kfp_standin import StandIn

from jupyter_mlops.backends.kfp import KfpBackend, listing

from .contract import finished

Specs = dict[str, str]


def _listed(backend: KfpBackend) -> list[tuple[str, str, str]]:
    return [(r.id, r.name, r.state.value) for r in backend.list_runs(limit=10).runs]


def test_the_same_answer_is_read_once_and_every_change_is_read(
    standin: StandIn, specs: Specs, monkeypatch: pytest.MonkeyPatch
) -> None:
    maker = KfpBackend(host=standin.url)
    made = [maker.submit(specs["arith"], {"a": i}, experiment="kept").id for i in range(3)]
    for run_id in made:
        finished(maker, run_id)
    maker.close()

    decoded: list[int] = []
    real = listing.decode_runs_page

    def counting(body: bytes) -> Any:
        decoded.append(len(body))
        return real(body)

    monkeypatch.setattr(listing, "decode_runs_page", counting)
    backend = KfpBackend(host=standin.url)
    first = _listed(backend)
    assert [run_id for run_id, _, _ in first] == made[::-1]
    for _ in range(5):  # a sidebar's polls: the same answer every time
        assert _listed(backend) == first
    assert len(decoded) <= 2  # read the first time, and the second (from when on it is kept)

    # Every change on the server shows at once: what is kept is the answer's very bytes.
    standin.cluster.runs[made[0]].display_name = "renamed on the server"
    assert "renamed on the server" in {name for _, name, _ in _listed(backend)}
    standin.cluster.set_storage_state(made[1], "ARCHIVED")  # archived runs are hidden, as in the KFP UI
    assert made[1] not in {run_id for run_id, _, _ in _listed(backend)}
    newer = KfpBackend(host=standin.url).submit(specs["arith"], {"a": 9}, experiment="kept").id
    assert _listed(backend)[0][0] == newer
    finished(backend, newer)  # a run still going changes between two listings (a loaded machine saw it)

    pages = [backend.list_runs(limit=10), backend.list_runs(limit=10), backend.list_runs(limit=10)]
    assert pages[1] == pages[2] and all(a is not b for a, b in zip(pages[1].runs, pages[2].runs, strict=True))
    pages[1].runs[0].parameters["a"] = "changed by a reader"  # a reader's change stays its own
    assert backend.list_runs(limit=10).runs[0].parameters == pages[2].runs[0].parameters
    backend.close()

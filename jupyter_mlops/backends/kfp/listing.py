"""Listing a KFP server's runs for the kfp backend: newest first, through the v2beta1 API's own
filters and page tokens, read as plain JSON over kept connections (api_reader.py, convert.summary_of),
with the experiments' names asked beside the first page when the kernel has met none of them
(experiments.py)."""

from __future__ import annotations

from typing import Any, Protocol

from ...models import RunInfo, RunPage, RunState
from .api_reader import ApiReader
from .convert import kfp_state, summary_of
from .experiments import KfpExperiments
from .filters import runs_filter
from .runs_json import decode_runs_page


class ListedBackend(Protocol):
    """What the listing uses of the kfp backend (backend.py), named here so that the two modules do not
    import each other."""

    reader: ApiReader
    experiment_book: KfpExperiments

    def _namespace_kwargs(self) -> dict[str, Any]: ...


MAX_PAGE = 200  # the most runs asked for in one list request (servers cap their page size)


class RunListing:
    def __init__(self, backend: ListedBackend) -> None:
        self.backend = backend
        self._summaries: dict[str, tuple[tuple[Any, ...], RunInfo]] = {}  # finished runs as listed

    def page(
        self,
        *,
        experiment: str | None = None,
        state: RunState | None = None,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
    ) -> RunPage:
        """Newest first, through the API's own paging: one request, or two for an offset up to
        MAX_PAGE (the first fetches the page token that starts there). `cursor` is the server's own
        page token (a page's `next_cursor`): the next page, stable while runs are created."""
        b = self.backend
        query: dict[str, Any] = {"sort_by": "created_at desc"}
        if experiment is not None:
            experiment_id = b.experiment_book.id_of(experiment, create=False)
            if experiment_id is None:
                return RunPage(runs=[], total=0)
            query["experiment_id"] = experiment_id
        else:
            query.update(b._namespace_kwargs())
        query["filter"] = runs_filter([kfp_state(state)] if state is not None else [])
        reader = b.reader
        token = cursor or ""
        skipped_so_far = 0
        while cursor is None and skipped_so_far < offset:  # to the page token where `offset` starts
            size = min(offset - skipped_so_far, MAX_PAGE)
            skipped = reader.get("runs", {**query, "page_size": size, "page_token": token}, "listing runs")
            skipped_runs = skipped.get("runs") or []
            skipped_so_far += len(skipped_runs)
            token = str(skipped.get("next_page_token") or "")
            if not token or not skipped_runs:
                return RunPage(runs=[], total=int(skipped.get("total_size") or 0))
        # A kernel that has met no experiment yet needs their names for this page: it asks for them
        # beside the page (two requests side by side, not one after the other). The page goes first,
        # on the kept connection; the names' request opens one while the server works on the page.
        book = b.experiment_book
        size = max(1, min(limit, MAX_PAGE))
        sent = reader.send("runs", {**query, "page_size": size, "page_token": token}, "listing runs")
        try:
            names = book.send_names_listing() if experiment is None and book.knows_none() else None
        except BaseException:
            reader.drop(sent)
            raise
        try:
            page = reader.answer(sent, decode=decode_runs_page)  # each distinct pipeline spec decoded once
        except BaseException:
            if names is not None:
                reader.drop(names)
            raise
        listed_runs = [r for r in page.get("runs") or () if isinstance(r, dict)]
        book.learn_names({str(r["experiment_id"]) for r in listed_runs if r.get("experiment_id")}, names)
        specs: dict[int, tuple[str, Any]] = {}  # each pipeline spec object of the page, read once
        runs = [self._summary(r, specs) for r in listed_runs]
        next_token = str(page.get("next_page_token") or "")
        more = bool(next_token) and len(runs) > 0
        return RunPage(
            runs=runs,
            total=int(page.get("total_size") or 0),
            next_offset=offset + len(runs) if more and cursor is None else None,
            next_cursor=next_token if more else None,
        )

    def _summary(self, run: dict[str, Any], specs: dict[int, tuple[str, Any]]) -> RunInfo:
        """A listed run as RunInfo; a finished run's is kept while its record stays the same (sidebars
        list the same page every 2 s), and handed out as a copy."""
        key = (
            run.get("state"),
            run.get("finished_at"),
            len(run.get("state_history") or ()),
            run.get("display_name"),
        )
        run_id = str(run.get("run_id"))
        kept = self._summaries.get(run_id)
        if kept is not None and kept[0] == key:
            return _copy(kept[1])
        info = summary_of(run, self.backend.experiment_book.name_of(run.get("experiment_id")), specs)
        if info.state.terminal:
            if len(self._summaries) > 5000:
                self._summaries.clear()
            self._summaries[run_id] = (key, _copy(info))
        return info


def _copy(info: RunInfo) -> RunInfo:
    """A listed run's copy for another reader, who may change it, its dicts and lists too (copy.copy's
    generic path costs more than making the summary)."""
    copied = object.__new__(RunInfo)
    copied.__dict__.update(info.__dict__)
    copied.parameters, copied.metrics = dict(info.parameters), dict(info.metrics)
    copied.steps, copied.edges = list(info.steps), list(info.edges)
    return copied

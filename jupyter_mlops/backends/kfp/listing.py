"""Listing a KFP server's runs for the kfp backend: newest first, through the v2beta1 API's own
filters and page tokens, read as plain JSON over kept connections (api_reader.py, convert.summary_of),
with the experiments' names asked beside the first page when the kernel has met none of them
(experiments.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ...models import RunInfo, RunPage, RunState
from .api_reader import ApiReader
from .convert import SpecFacts, kfp_state, summary_of
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
MAX_PAGES_KEPT = 4  # answers to distinct list requests kept (up to ~1 MB each: the pages of runs)


@dataclass
class _ReadPage:
    """A list request's last answer: its bytes, and its runs once the same bytes came twice."""

    body: bytes
    runs: list[RunInfo] | None
    total: int
    next_token: str


class RunListing:
    def __init__(self, backend: ListedBackend) -> None:
        self.backend = backend
        self._summaries: dict[str, tuple[tuple[Any, ...], RunInfo | None]] = {}  # finished runs as listed
        self._pages: dict[str, _ReadPage] = {}  # the last answer to each list request

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
            body = reader.answer_body(sent)
        except BaseException:
            if names is not None:
                reader.drop(names)
            raise
        read = self._pages.get(sent.target)
        if read is not None and read.body == body and read.runs is not None:
            # the very answer read last time for this request: the same page (its experiments' names
            # are known since then), handed out as copies
            if names is not None:
                book.learn_names(set(), names)
            runs = [_copy(r) for r in read.runs]
        else:
            try:
                page = reader.decoded(sent, body, decode_runs_page)  # each distinct spec decoded once
            except BaseException:
                if names is not None:
                    reader.drop(names)
                raise
            listed_runs = [r for r in page.get("runs") or () if isinstance(r, dict)]
            book.learn_names({str(r["experiment_id"]) for r in listed_runs if r.get("experiment_id")}, names)
            specs: dict[int, SpecFacts] = {}  # each pipeline spec object of the page, read once
            runs = [self._summary(r, specs) for r in listed_runs]
            read = self._keep_page(sent.target, body, runs, page)
        more = bool(read.next_token) and len(runs) > 0
        return RunPage(
            runs=runs,
            total=read.total,
            next_offset=offset + len(runs) if more and cursor is None else None,
            next_cursor=read.next_token if more else None,
        )

    def _keep_page(self, target: str, body: bytes, runs: list[RunInfo], page: dict[str, Any]) -> _ReadPage:
        """Remember the answer to this request (a sidebar asks for the same page every 2 s, and mostly
        gets the very same bytes back): its runs are kept from the second time the same answer comes,
        so a listing read once (a kernel's `%pipeline runs`) copies nothing."""
        seen = self._pages.get(target)
        again = seen is not None and seen.body == body
        read = _ReadPage(
            body=body,
            runs=[_copy(r) for r in runs] if again else None,
            total=int(page.get("total_size") or 0),
            next_token=str(page.get("next_page_token") or ""),
        )
        if len(self._pages) >= MAX_PAGES_KEPT and target not in self._pages:
            self._pages.clear()
        self._pages[target] = read
        return read

    def _summary(self, run: dict[str, Any], specs: dict[int, SpecFacts]) -> RunInfo:
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
        if kept is not None and kept[0] == key and kept[1] is not None:
            return _copy(kept[1])
        info = summary_of(run, self.backend.experiment_book.name_of(run.get("experiment_id")), specs)
        if info.state.terminal:
            if len(self._summaries) > 5000:
                self._summaries.clear()
            # kept from the second time it is listed the same: a listing read once copies nothing
            again = kept is not None and kept[0] == key
            self._summaries[run_id] = (key, _copy(info) if again else None)
        return info


def _copy(info: RunInfo) -> RunInfo:
    """A listed run's copy for another reader, who may change it, its dicts and lists too (copy.copy's
    generic path costs more than making the summary)."""
    copied = object.__new__(RunInfo)
    copied.__dict__.update(info.__dict__)
    copied.parameters, copied.metrics = dict(info.parameters), dict(info.metrics)
    copied.steps, copied.edges = list(info.steps), list(info.edges)
    return copied

"""The JSON text of the runs list's pages, written once per distinct page.

A sidebar asks for the same first page every 2 s, and most of the time the backend lists the very
same runs (equal `RunPage`s: every field of every run the same). The text answered last for each
query is kept beside the page it was written from, and answered again while the page listed is equal
to it; any difference in any run writes the page anew. Kept per backend (a server has one; tests make
many), for the last few distinct queries.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from ..models import RunPage
from ..render import finite_json
from .run_json import run_page

MAX_KEPT = 16  # distinct queries (filters, pages, sizes) whose last text is kept


class PageTexts:
    def __init__(self) -> None:
        self._last: dict[tuple[Any, ...], tuple[RunPage, str]] = {}

    def text(self, page: RunPage, *, limit: int, offset: int, query: tuple[Any, ...]) -> str:
        """`run_page(page, ...)` as strict JSON text (finite_json.dumps)."""
        key = (limit, offset, *query)
        kept = self._last.get(key)
        if kept is not None and kept[0] == page:
            return kept[1]
        text = finite_json.dumps(run_page(page, limit=limit, offset=offset))
        if len(self._last) >= MAX_KEPT and key not in self._last:
            self._last.clear()
        self._last[key] = (page, text)
        return text


_texts: weakref.WeakKeyDictionary[Any, PageTexts] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def page_texts(backend: Any) -> PageTexts:
    """The kept texts of this backend's pages (none kept for a backend that cannot be weakly referenced
    or hashed: a registered backend class may be made so)."""
    with _lock:
        try:
            texts = _texts.get(backend)
            if texts is None:
                texts = _texts[backend] = PageTexts()
        except TypeError:
            return PageTexts()
        return texts

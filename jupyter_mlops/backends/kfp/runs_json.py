"""A page of KFP runs (ListRuns' JSON) decoded with each distinct pipeline spec decoded once.

Every listed run carries its whole inline pipeline spec (about 4 KB; the v2beta1 API has no field
mask), and the runs of one pipeline carry the very same text: most of a page's bytes, and most of the
time and objects its decoding costs, are the same spec again and again. Here each run's spec text is
compared with the specs already seen on the page (a byte comparison); a new one is decoded on its own,
and the rest of the page, the specs cut out, is decoded in one go; runs with the same spec text share
one decoded spec (read-only: nothing here or in convert.summary_of changes it).

The cut is checked, not assumed: each cut spec must come back as exactly one run's `pipeline_spec`, in
order; anything else (a parameter value holding a "pipeline_spec" key, say) decodes the page whole.
"""

from __future__ import annotations

import json
from typing import Any

_KEY = '"pipeline_spec":'
_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"
MAX_KNOWN = 8  # distinct specs compared against on one page (a page of many pipelines: decoded as met)


def decode_runs_page(body: bytes) -> Any:
    """The page as `json.loads(body)` gives it; identical specs are one shared object."""
    text = body.decode("utf-8")
    try:
        return _decode_deduplicated(text)
    except ValueError:  # not what this reads (or not JSON at all): decoded whole, which says why
        return json.loads(text)


def _decode_deduplicated(text: str) -> Any:
    specs: list[Any] = []  # the decoded spec of each cut, in order
    known: list[tuple[str, Any]] = []  # (spec text, decoded) met on this page
    pieces: list[str] = []
    start = 0
    at = text.find(_KEY)
    while at >= 0:
        value = at + len(_KEY)
        while value < len(text) and text[value] in _WHITESPACE:
            value += 1
        if not text.startswith("{", value):  # null, or not a spec: left as it is
            at = text.find(_KEY, value)
            continue
        seen = next(((t, d) for t, d in known if text.startswith(t, value)), None)
        if seen is not None:
            decoded, end = seen[1], value + len(seen[0])
        else:
            decoded, end = _DECODER.raw_decode(text, value)
            known.insert(0, (text[value:end], decoded))
            del known[MAX_KNOWN:]
        pieces.append(text[start:value])
        pieces.append(f'"\\u0000spec {len(specs)}"')
        specs.append(decoded)
        start = end
        at = text.find(_KEY, end)
    if not specs:
        return json.loads(text)
    pieces.append(text[start:])
    page = json.loads("".join(pieces))
    runs = page.get("runs") if isinstance(page, dict) else None
    placed = 0
    for run in runs if isinstance(runs, list) else ():
        if isinstance(run, dict) and run.get("pipeline_spec") == f"\x00spec {placed}":
            run["pipeline_spec"] = specs[placed]
            placed += 1
    if placed != len(specs):  # a cut was not a run's own spec: decode the page as it is
        return json.loads(text)
    return page

"""What a step showed (figures it drew, values it display()ed), read back from its figures artifact.

`step_figures.py` writes them inside the step, in order, as `figure-<n>.<ext>` files listed in
`figures.json`. Here they are listed (for the REST API, which serves the files), loaded for the
notebook's run view (bounded: a view must not carry megabytes on every click), and shown in the
notebook as the cell itself would have shown them (`run.figures(step)`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..models import ArtifactInfo

FIGURES_KIND = "figures"
VIEW_BYTES = 4 * 1024 * 1024  # figures sent to a run view for one step, at most


def figures_artifact(artifacts: Iterable[ArtifactInfo], step: str) -> ArtifactInfo | None:
    for artifact in artifacts:
        if artifact.step == step and artifact.metadata.get("kind") == FIGURES_KIND:
            return artifact
    return None


def figure_items(artifact: ArtifactInfo | None) -> list[dict[str, str]]:
    """[{"file", "mime"}] in the order shown; [] when the step kept none (or its files are gone)."""
    if artifact is None:
        return []
    try:
        listing = json.loads((Path(artifact.uri) / "figures.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    items = listing.get("items") if isinstance(listing, dict) else None
    return [
        {"file": str(i["file"]), "mime": str(i["mime"])}
        for i in items or []
        if isinstance(i, dict) and "/" not in str(i.get("file", "/")) and i.get("mime")
    ]


def figures_for_view(artifact: ArtifactInfo | None, limit: int = VIEW_BYTES) -> list[dict[str, Any]]:
    """The figures with their data (images base64, text as text), up to `limit` bytes in all; the
    ones past it are listed with `"omitted": true` (they download from the sidebar)."""
    shown: list[dict[str, Any]] = []
    used = 0
    for item in figure_items(artifact):
        assert artifact is not None
        path = Path(artifact.uri) / item["file"]
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if used + len(data) > limit:
            shown.append({**item, "omitted": True})
            continue
        used += len(data)
        if item["mime"].startswith("image/"):
            shown.append({**item, "data": base64.b64encode(data).decode("ascii")})
        else:
            shown.append({**item, "text": data.decode("utf-8", errors="replace")})
    return shown


class Figures(list[Any]):
    """A step's figures as IPython display objects; shown as a cell's value, each is displayed."""

    def _ipython_display_(self) -> None:
        from IPython.display import display

        if not self:
            print("(the step showed nothing)")
        for item in self:
            display(item)  # type: ignore[no-untyped-call,unused-ignore]


def display_objects(artifact: ArtifactInfo | None) -> Figures:
    from IPython.core.display import HTML, SVG, Image, Markdown

    out = Figures()
    for item in figure_items(artifact):
        assert artifact is not None
        path = Path(artifact.uri) / item["file"]
        mime = item["mime"]
        if mime == "image/png":
            out.append(Image(filename=str(path)))  # type: ignore[no-untyped-call,unused-ignore]
        elif mime == "image/svg+xml":
            out.append(SVG(filename=str(path)))  # type: ignore[no-untyped-call,unused-ignore]
        elif mime == "text/html":
            out.append(HTML(filename=str(path)))  # type: ignore[no-untyped-call,unused-ignore]
        elif mime == "text/markdown":
            out.append(Markdown(filename=str(path)))  # type: ignore[no-untyped-call,unused-ignore]
    return out

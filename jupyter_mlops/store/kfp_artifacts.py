"""KFP's visual artifacts, as the KFP UI shows them: `Markdown` and `HTML` rendered, `Metrics` as a table,
`ClassificationMetrics` as a confusion matrix and a ROC curve. For the run view's step panel.

Markdown is rendered to HTML here (markdown-it-py, CommonMark, raw HTML off); HTML artifacts are passed
as written: the view puts both in an iframe with an empty `sandbox` (no scripts, no same origin), so a
step's page cannot reach the notebook. Files are read up to `MAX_BYTES`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..ir.output_names import is_internal
from ..models import ArtifactInfo

MAX_BYTES = 512 * 1024
_TYPES = ("system.Markdown", "system.HTML", "system.Metrics", "system.ClassificationMetrics")


def _text(artifact: ArtifactInfo) -> str | None:
    path = Path(artifact.uri)
    if not path.is_file():
        return None
    with path.open("rb") as f:
        data = f.read(MAX_BYTES + 1)
    text = data[:MAX_BYTES].decode("utf-8", errors="replace")
    return text + ("\n\n… (cut: the file is larger)" if len(data) > MAX_BYTES else "")


def _markdown_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark", {"html": False}).enable("table").render(text))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _classification(meta: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    matrix = meta.get("confusionMatrix")
    if isinstance(matrix, dict):
        labels = [
            str(s.get("displayName", "")) for s in matrix.get("annotationSpecs", []) if isinstance(s, dict)
        ]
        rows = [r.get("row", []) for r in matrix.get("rows", []) if isinstance(r, dict)]
        shown["labels"] = labels
        shown["matrix"] = [[_number(v) or 0.0 for v in row] for row in rows]
    curve = meta.get("confidenceMetrics")
    if isinstance(curve, list):
        points = [
            [
                _number(p.get("falsePositiveRate")),
                _number(p.get("recall")),
                _number(p.get("confidenceThreshold")),
            ]
            for p in curve
            if isinstance(p, dict)
        ]
        shown["roc"] = sorted(
            ([f, t, c] for f, t, c in points if f is not None and t is not None), key=lambda p: p[0]
        )
    return shown


def visual_artifacts(artifacts: Iterable[ArtifactInfo], step: str) -> list[dict[str, Any]]:
    """The step's KFP visual artifacts, each as {"kind", "name", ...} the view draws."""
    shown: list[dict[str, Any]] = []
    for artifact in artifacts:
        if artifact.step != step or artifact.type not in _TYPES or is_internal(artifact.name, artifact):
            continue
        item: dict[str, Any] = {"name": artifact.name}
        if artifact.type in ("system.Markdown", "system.HTML"):
            text = _text(artifact)
            if text is None:
                continue
            item["kind"] = "html"
            item["html"] = _markdown_html(text) if artifact.type == "system.Markdown" else text
        elif artifact.type == "system.Metrics":
            values = {k: _number(v) for k, v in artifact.metadata.items()}
            item.update(kind="metrics", values={k: v for k, v in values.items() if v is not None})
        else:
            item.update(kind="classification", **_classification(artifact.metadata))
        shown.append(item)
    return shown

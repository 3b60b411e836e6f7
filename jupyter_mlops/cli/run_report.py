"""A finished run for a terminal (`jupyter-mlops run --wait`, `scripts/demo.sh`): its parameters, its
DAG as a text drawing, each step's result and metrics.

The drawing puts the DAG's stages top to bottom (a stage's steps run side by side) and, between two
stages, which step feeds which, leaving out edges implied by others (load -> scale -> train draws no
load -> train line).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..models import ArtifactInfo, RunInfo, StepInfo
from ..render.layout import step_order
from ..render.style import state_name, state_style, truncate

_PREVIEW = 70
_DEFAULT_REPR = re.compile(r"<(?:[\w.]+\.)?(\w+) object at 0x[0-9a-fA-F]+>")
_WIDTH = 100  # a terminal's width, less a margin


def stages(names: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Steps grouped by stage: a step's stage is one after the latest stage of the steps it waits for."""
    known = set(names)
    ups: dict[str, set[str]] = {n: set() for n in names}
    for a, b in edges:
        if a in known and b in known and a != b:
            ups[b].add(a)
    stage: dict[str, int] = {}
    for n in step_order(names, edges):  # upstream steps first
        stage[n] = 1 + max((stage.get(u, 0) for u in ups[n]), default=-1)
    rows: list[list[str]] = [[] for _ in range(max(stage.values(), default=-1) + 1)]
    for n in step_order(names, edges):
        rows[stage[n]].append(n)
    return rows


def direct_edges(names: list[str], edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges not implied by a longer path (the transitive reduction), in the given order."""
    known = set(names)
    succ: dict[str, set[str]] = {n: set() for n in names}
    for a, b in edges:
        if a in known and b in known and a != b:
            succ[a].add(b)

    def reachable_without(a: str, b: str) -> bool:
        todo = [s for s in succ[a] if s != b]
        seen = set(todo)
        while todo:
            n = todo.pop()
            if n == b:
                return True
            for s in succ[n] - seen:
                seen.add(s)
                todo.append(s)
        return False

    kept = [(a, b) for a, b in dict.fromkeys(edges) if a in known and b in known and a != b]
    return [(a, b) for a, b in kept if not reachable_without(a, b)]


def dag_drawing(info: RunInfo) -> list[str]:
    names = [s.name for s in info.steps]
    by_name = {s.name: s for s in info.steps}
    rows = stages(names, info.edges)
    edges = direct_edges(names, info.edges)
    lines: list[str] = []
    for k, row in enumerate(rows):
        boxes = [("   ", f"[{state_style(state_name(by_name[n].state))['icon']} {n}]") for n in row]
        lines += _wrapped(boxes, f"  {k + 1:>2}  ", "      ")
        feeds: list[tuple[str, str]] = []
        for n in row:
            downstream = [b for a, b in edges if a == n]
            for i, b in enumerate(downstream):
                feeds.append((";  ", f"{n} ─▶ {b}") if i == 0 else (", ", b))
        if feeds:
            lines += _wrapped(feeds, "       │  ", "       │  ")
    return lines


def _wrapped(parts: list[tuple[str, str]], first: str, rest: str) -> list[str]:
    """(separator, text) parts on lines of at most _WIDTH characters; a part is never split, and the
    separator before the first part of a line is left out."""
    lines: list[str] = []
    line, empty = first, True
    for sep, text in parts:
        if not empty and len(line) + len(sep) + len(text) > _WIDTH:
            lines.append(line + sep.rstrip())
            line, empty = rest, True
        line += text if empty else sep + text
        empty = False
    lines.append(line)
    return lines


def result_preview(step: StepInfo) -> str | None:
    """The step's result as short text, from its file when the store has no record of it: JSON values as
    written, arrays by shape, others by kind (a path is never shown: the views show values, not files)."""
    uri = step.outputs.get("result")
    if not isinstance(uri, str):
        return None
    folder = Path(uri)
    files = sorted(folder.iterdir()) if folder.is_dir() else [folder] if folder.is_file() else []
    if not files:
        return None
    first = files[0]
    try:
        if first.suffix == ".json":
            text = json.dumps(json.loads(first.read_text(encoding="utf-8")), ensure_ascii=False)
            return truncate(text, _PREVIEW)
        if first.suffix == ".npy":
            return _npy_preview(first)
    except (OSError, ValueError):
        return f"({first.name}, unreadable)"
    return f"(a {first.suffix.lstrip('.') or first.name} file)"


def step_values(
    step: StepInfo, artifacts: list[ArtifactInfo] | None, variables: Mapping[str, str] | None = None
) -> list[str]:
    """`name: what it is` for each value the step made, as the run views show them (the cell's own
    names; a frame's shape, an array's shape and dtype, the last value's repr), the result first."""
    if artifacts is None:
        result = result_preview(step)
        return [f"result: {result}"] if result is not None else []
    from ..render.values_shown import output_previews, shown_outputs

    mine = [a for a in artifacts if a.step == step.name]
    shown = shown_outputs(step, mine, variables)
    previews = output_previews(step, mine, variables)
    texts: dict[str, str] = {}
    for name, value in sorted(shown.items(), key=lambda item: item[0] != "result"):  # stable: result first
        text = str(value)
        preview = previews.get(name, {})
        if preview.get("kind") == "text" and isinstance(preview.get("text"), str):
            text = " ".join(preview["text"].split())  # a list's or an object's repr, on one line
        default = _DEFAULT_REPR.fullmatch(text)
        if default:  # <module.Class object at 0x...>: say what it is, no address
            text = f"{default.group(1)} object"
        texts[name] = truncate(text, _PREVIEW)
    if "result" in texts and list(texts.values()).count(texts["result"]) > 1:
        del texts["result"]  # the cell's last value is one of its variables, shown under its name
    return [f"{name}: {text}" for name, text in texts.items()]


def _npy_preview(path: Path) -> str:
    import ast

    with path.open("rb") as f:
        magic = f.read(8)
        if magic[:6] != b"\x93NUMPY":
            return f"(npy file: {path})"
        size = int.from_bytes(f.read(2 if magic[6] == 1 else 4), "little")
        header: Any = ast.literal_eval(f.read(size).decode("latin-1"))
    return f"array of shape {tuple(header['shape'])}, dtype {header['descr']}"


def run_report(
    info: RunInfo,
    artifacts: list[ArtifactInfo] | None = None,
    variables: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """Parameters, the DAG drawing, each step's values and metrics, and where to look next.
    `artifacts`: the run's artifact records (the backend's); `variables`: step -> its outputs' names in
    the cell (`ir.step_sources`). Without records, each step's result is read from its file."""
    lines = []
    if info.parameters:
        params = ", ".join(f"{k}={v!r}" for k, v in sorted(info.parameters.items()))
        lines.append(f"parameters: {params}")
    lines.append("DAG (stages run top to bottom; the steps of a stage run side by side):")
    lines += dag_drawing(info)
    lines.append("steps:")
    by_name = {s.name: s for s in info.steps}
    width = max((len(n) for n in by_name), default=4)
    for name in step_order(list(by_name), info.edges):
        step = by_name[name]
        values = step_values(step, artifacts, (variables or {}).get(name))
        metrics = ", ".join(f"{k}={v:.6g}" for k, v in sorted(step.metrics.items()))
        parts = values + ([f"metrics: {metrics}"] if metrics else [])
        if not parts:
            lines.append(f"  {name:<{width}}  (no values, no metrics)")
        for k, part in enumerate(parts):  # a line each, so that long reprs stay readable
            lines.append(f"  {name if k == 0 else '':<{width}}  {part}")
    lines.append(f"Its log: jupyter-mlops logs {info.id} STEP; again later: jupyter-mlops status {info.id}")
    return "\n".join(lines)

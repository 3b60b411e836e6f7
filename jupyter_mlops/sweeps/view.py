"""The sweep's view: a header (state, trials done, best so far), a parallel-coordinates chart of the
swept parameters against the metric, and the trials table best first. HTML for notebooks, text for
terminals; `live_view` redraws one display as each trial finishes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..store.sweep_records import SweepRecord, SweepRecords
    from .trial import Trial


class Sweep(Protocol):
    """What the view reads of a sweep's handle (`jupyter_mlops.sweeps.handle.Sweep`)."""

    _listeners: list[Callable[[], None]]

    @property
    def name(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def goal(self) -> str: ...
    @property
    def record(self) -> SweepRecord: ...
    @property
    def best(self) -> Trial | None: ...
    def ranked(self) -> list[Trial]: ...


CHART_W, CHART_H, PAD = 640, 220, 34


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _swept(sweep: Sweep) -> list[str]:
    return list(sweep.record.settings.get("space", {}).get("dimensions", {}))


def _header(sweep: Sweep, trials: list[Trial]) -> tuple[str, str]:
    done = sum(1 for t in trials if t.state in ("SUCCEEDED", "FAILED"))
    budget = sweep.record.settings.get("trials")
    total = f"/{budget}" if budget else ""
    best = sweep.best
    best_text = (
        f"best {sweep.metric}={_fmt(best.value)} (trial {best.number}: "
        + ", ".join(f"{k}={_fmt(best.params[k])}" for k in _swept(sweep) if k in best.params)
        + ")"
        if best
        else "no result yet"
    )
    goal = "max" if sweep.goal == "max" else "min"
    return f"Sweep {sweep.name}  {sweep.state}  {done}{total} trials done  {goal} {sweep.metric}", best_text


def _early(message: str) -> bool:
    return message.startswith("stopped early")


def sweep_text(sweep: Sweep) -> str:
    ranked = sweep.ranked()
    title, best = _header(sweep, ranked)
    names = _swept(sweep)
    lines = [title, "  " + best]
    error = sweep.record.error
    if error:  # the record's message: why it failed, or why it stopped early (a note, not an error)
        lines.append(f"  {error}" if _early(error) else f"  error: {error}")
    rows = [["#", *names, sweep.metric, "state", "run"]]
    for t in ranked:
        value = "" if t.value is None else _fmt(t.value)
        rows.append(
            [str(t.number), *[_fmt(t.params.get(n, "")) for n in names], value, t.state, t.run_id or ""]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _axis(values: list[Any]) -> tuple[list[Any], Any]:
    """An axis for these values: numbers scale linearly (log if they span decades), others by order."""
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) == len(values) and numbers:
        low, high = min(numbers), max(numbers)
        use_log = low > 0 and high / low >= 100
        if use_log:
            low, high = math.log10(low), math.log10(high)
        span = (high - low) or 1.0

        def place(v: Any) -> float:
            x = math.log10(v) if use_log else v
            return float((x - low) / span)

        return [min(numbers), max(numbers)], place
    levels = sorted({repr(v) for v in values})

    def place_level(v: Any) -> float:
        return levels.index(repr(v)) / max(1, len(levels) - 1)

    return [levels[0], levels[-1]] if levels else ["", ""], place_level


def parallel_coordinates_svg(sweep: Sweep, trials: list[Trial]) -> str:
    """One vertical axis per swept parameter and one for the metric; one line per finished trial,
    darker the better, the best one bold."""
    done = [t for t in trials if t.state == "SUCCEEDED" and t.value is not None]
    names = _swept(sweep)
    if not done or not names:
        return ""
    columns = [*names, sweep.metric]
    axes = []
    for c in columns:
        values = [t.value if c == sweep.metric else t.params.get(c) for t in done]
        axes.append(_axis(values))
    step = (CHART_W - 2 * PAD) / max(1, len(columns) - 1)
    xs = [PAD + i * step for i in range(len(columns))]
    top, bottom = 24, CHART_H - 24
    scores = [t.value or 0.0 for t in done]
    lo, hi = min(scores), max(scores)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mlops-sweep-chart" width="{CHART_W}" '
        f'height="{CHART_H}" font-family="system-ui, sans-serif" font-size="11">'
    ]
    best = sweep.best
    for t in sorted(done, key=lambda t: t is best):
        quality = 0.5 if hi == lo else ((t.value or 0.0) - lo) / (hi - lo)
        if sweep.goal == "min":
            quality = 1 - quality
        points = []
        for x, c, (_, place) in zip(xs, columns, axes, strict=True):
            v = t.value if c == sweep.metric else t.params.get(c)
            points.append(f"{x:.1f},{bottom - place(v) * (bottom - top):.1f}")
        width = 3 if best is not None and t.number == best.number else 1.2
        color = "#b91c1c" if width == 3 else f"rgba(37,99,235,{0.25 + 0.75 * quality:.2f})"
        out.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{color}" stroke-width="{width}">'
            f"<title>trial {t.number}: {html.escape(sweep.metric)}={_fmt(t.value)}</title></polyline>"
        )
    for x, c, (ends, _) in zip(xs, columns, axes, strict=True):
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#6b7280"/>')
        out.append(
            f'<text x="{x:.1f}" y="14" text-anchor="middle" font-weight="bold">{html.escape(c)}</text>'
        )
        out.append(f'<text x="{x + 3:.1f}" y="{top + 4}" fill="#6b7280">{html.escape(_fmt(ends[1]))}</text>')
        out.append(
            f'<text x="{x + 3:.1f}" y="{bottom + 14}" fill="#6b7280">{html.escape(_fmt(ends[0]))}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def sweep_html(sweep: Sweep) -> str:
    ranked = sweep.ranked()
    title, best = _header(sweep, ranked)
    names = _swept(sweep)
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in ["#", *names, sweep.metric, "state", "run"])
    body = []
    for t in ranked:
        cells = [str(t.number), *[_fmt(t.params.get(n, "")) for n in names]]
        cells += ["" if t.value is None else _fmt(t.value), t.state, t.run_id or ""]
        tip = f' title="{esc(t.error)}"' if t.error else ""
        body.append(f"<tr{tip}>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    error = sweep.record.error
    colour = "#555" if error and _early(error) else "#b00"
    problem = f"<br><span style='color:{colour}'>{esc(error)}</span>" if error else ""
    return (
        f"<div class='jupyter-mlops-sweep' data-state='{esc(sweep.state)}'><b>{esc(title)}</b><br>"
        f"<span class='mlops-sweep-best'>{esc(best)}</span>{problem}"
        f"{parallel_coordinates_svg(sweep, ranked)}"
        f"<table class='mlops-sweep-trials'><tr>{head}</tr>{''.join(body)}</table></div>"
    )


class SweepView:
    """What a notebook shows for a sweep: redrawn in place as its trials finish."""

    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep
        self._handle: Any = None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": sweep_text(self.sweep), "text/html": sweep_html(self.sweep)}

    def show(self) -> None:
        from IPython.display import display

        self._handle = display(self, display_id=True)  # type: ignore[no-untyped-call]
        self.sweep._listeners.append(self.redraw)

    def redraw(self) -> None:
        if self._handle is not None:
            self._handle.update(self)


class SweepsTable:
    """The sweeps in the store, newest first: state, trials done, best value."""

    def __init__(self, records: SweepRecords) -> None:
        from ..backends.runner_liveness import this_host
        from ..store.sweep_records import owner_alive

        self.rows: list[list[str]] = []
        host = this_host()
        for record in records.all():
            trials = records.trials(record.id)
            done = [t for t in trials if t.state == "SUCCEEDED" and t.value is not None]
            goal = record.settings.get("goal", "max")
            best = (max if goal == "max" else min)((t.value or 0.0 for t in done), default=None)
            state = record.state
            if state in ("RUNNING", "STOPPING") and not owner_alive(record, host=host):
                state = "INTERRUPTED"
            self.rows.append([
                record.name, state, record.pipeline_name, f"{len(done)}/{len(trials)}",
                f"{goal} {record.settings.get('metric', '')}", "" if best is None else _fmt(best),
            ])  # fmt: skip

    HEAD = ["sweep", "state", "pipeline", "trials ok", "goal", "best"]

    def __repr__(self) -> str:
        rows = [self.HEAD, *self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEAD))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in self.HEAD)
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in self.rows)
        return f"<table class='jupyter-mlops-sweeps'><tr>{head}</tr>{body}</table>"


def sweeps_table(records: SweepRecords) -> SweepsTable:
    return SweepsTable(records)

"""Static drawings of a run: inline SVG as HTML (nbconvert, GitHub, frontends without widgets) and plain text.

They draw the same Layout as the widget, with the same state styles, so every surface shows the same DAG.
"""

from __future__ import annotations

import time

from ..models import RunInfo
from .layout import NODE_H, Layout, layout_dag, step_order
from .style import (
    esc,
    format_duration,
    progress,
    run_elapsed,
    state_name,
    state_style,
    step_elapsed,
    truncate,
)

MAX_STATIC_WIDTH = 1100  # px on the page; larger DAGs are scaled down by the viewBox
NAME_CHARS = 19


def render_dag_svg(
    layout: Layout,
    states: dict[str, str] | None = None,
    durations: dict[str, str] | None = None,
) -> str:
    """An SVG of the laid-out DAG. `states` maps step -> state name (None: a not-yet-run pipeline)."""
    w, h = layout.width, layout.height
    shown_w = min(w, MAX_STATIC_WIDTH)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mlops-dag" viewBox="0 0 {w:.0f} {h:.0f}" '
        f'width="{shown_w:.0f}" height="{h * shown_w / w:.0f}" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="13">',
        '<defs><marker id="mlops-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#9ca3af"/></marker></defs>',
    ]
    for e in layout.edges:
        out.append(
            f'<path d="{e.d}" fill="none" stroke="#9ca3af" stroke-width="1.5" '
            'marker-end="url(#mlops-arrow)"/>'
        )
        if e.label:
            lx, ly = e.label_at
            out.append(
                f'<text x="{lx:.1f}" y="{ly - 4:.1f}" text-anchor="middle" font-size="11" '
                f'fill="#6b7280">{esc(truncate(e.label, 14))}'
                + (f"<title>{esc(e.label)}</title>" if len(e.label) > 14 else "")
                + "</text>"
            )
    for n in layout.nodes:
        state = states.get(n.id) if states is not None else None
        st = state_style(state)
        dur = (durations or {}).get(n.id, "")
        dash = ' stroke-dasharray="4 3"' if state == "SKIPPED" else ""
        title = n.id + (f" — {state}" if state else "") + (f", {dur}" if dur else "")
        out.append(
            f'<g class="mlops-node" data-step="{esc(n.id)}" data-state="{esc(state or "")}">'
            f"<title>{esc(title)}</title>"
            f'<rect x="{n.x:.1f}" y="{n.y:.1f}" width="{n.w:.0f}" height="{n.h:.0f}" rx="6" '
            f'fill="{st["fill"]}" stroke="{st["stroke"]}" stroke-width="1.5"{dash}/>'
            f'<text x="{n.x + 14:.1f}" y="{n.y + NODE_H / 2 + 5:.1f}" text-anchor="middle" '
            f'font-size="15" fill="{st["stroke"]}">{st["icon"]}</text>'
            f'<text x="{n.x + 26:.1f}" y="{n.y + (17 if dur else NODE_H / 2 + 4.5):.1f}" '
            f'fill="{st["text"]}">{esc(truncate(n.id, NAME_CHARS))}</text>'
        )
        if dur:
            out.append(  # (class: a live view may move a running step's time on between answers)
                f'<text class="mlops-dur" x="{n.x + 26:.1f}" y="{n.y + 32:.1f}" font-size="11" '
                f'fill="{st["text"]}" opacity="0.75">{esc(dur)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def run_layout(info: RunInfo) -> Layout:
    return layout_dag([s.name for s in info.steps], info.edges)


def step_states(info: RunInfo, now: float) -> tuple[dict[str, str], dict[str, str]]:
    states = {s.name: state_name(s.state) for s in info.steps}
    durations = {s.name: format_duration(step_elapsed(s, now)) for s in info.steps}
    return states, durations


def render_run_static(info: RunInfo, layout: Layout | None = None, now: float | None = None) -> str:
    """text/html: a header with the run's state and progress, the DAG as inline SVG, and any errors."""
    now = time.time() if now is None else now
    layout = layout or run_layout(info)
    states, durations = step_states(info, now)
    done, total = progress(info)
    run_state = state_name(info.state)
    st = state_style(run_state)
    pct = 100 * done / total if total else 0.0
    elapsed = format_duration(run_elapsed(info, now))
    parts = [
        '<div class="mlops-run-static" style="font-family: system-ui, sans-serif; font-size: 13px">',
        f'<div><b>{esc(info.name or info.id)}</b> <span style="color:{st["stroke"]}">'
        f"{st['icon']} {esc(run_state)}</span> · {done}/{total} steps"
        + (f" · {esc(elapsed)}" if elapsed else "")
        + f' · <span style="color:#6b7280">{esc(info.id)}</span></div>',
        '<div style="background:#e5e7eb;border-radius:3px;height:6px;width:320px;margin:4px 0 8px">'
        f'<div style="background:{st["stroke"]};height:6px;border-radius:3px;width:{pct:.0f}%"></div></div>',
        render_dag_svg(layout, states, durations),
    ]
    errors = [(s.name, s.error) for s in info.steps if s.error]
    if info.error:
        errors.insert(0, ("run", info.error))
    for where, err in errors:
        parts.append(
            f'<pre style="color:#7f1d1d;background:#fef2f2;padding:6px;white-space:pre-wrap">'
            f"{esc(where)}: {esc(truncate(err or '', 2000))}</pre>"
        )
    if info.metrics:
        cells = "".join(
            f"<tr><td>{esc(k)}</td><td style='text-align:right'>{v:.6g}</td></tr>"
            for k, v in sorted(info.metrics.items())
        )
        parts.append(f"<table><tr><th>metric</th><th>value</th></tr>{cells}</table>")
    parts.append("</div>")
    return "".join(parts)


def render_run_text(info: RunInfo, now: float | None = None) -> str:
    """A plain-text summary for terminal IPython and logs: run header, then one line per step, in the
    order the DAG runs them."""
    now = time.time() if now is None else now
    done, total = progress(info)
    run_state = state_name(info.state)
    elapsed = format_duration(run_elapsed(info, now))
    lines = [
        f"Run {info.name or info.id} ({info.id}): {run_state}, {done}/{total} steps done"
        + (f", {elapsed}" if elapsed else "")
    ]
    width = max((len(s.name) for s in info.steps), default=4)
    by_name = {s.name: s for s in info.steps}
    for s in (by_name[n] for n in step_order(list(by_name), info.edges)):
        name = state_name(s.state)
        dur = format_duration(step_elapsed(s, now))
        line = f"  {state_style(name)['icon']} {s.name:<{width}}  {name:<9}  {dur}".rstrip()
        if s.error:
            last = s.error.strip().splitlines()[-1] if s.error.strip() else ""
            line += f"\n      error: {truncate(last, 200)}"
        lines.append(line)
    if info.error:
        lines.append(f"  error: {truncate(info.error, 400)}")
    for k, v in sorted(info.metrics.items()):
        lines.append(f"  metric {k} = {v:.6g}")
    return "\n".join(lines)


def render_pipeline_static(layout: Layout) -> str:
    return f'<div class="mlops-pipeline-static">{render_dag_svg(layout)}</div>'


def render_pipeline_text(
    steps: list[str], edges: list[tuple[str, str]], labels: dict[tuple[str, str], str] | None = None
) -> str:
    labels = labels or {}
    lines = [f"Pipeline: {len(steps)} steps, {len(edges)} edges"]
    ups: dict[str, list[str]] = {s: [] for s in steps}
    for a, b in edges:
        label = labels.get((a, b))
        ups.setdefault(b, []).append(f"{a} ({label})" if label else a)
    for s in steps:
        lines.append(f"  {s}" + (f"  <- {', '.join(ups[s])}" if ups.get(s) else ""))
    return "\n".join(lines)

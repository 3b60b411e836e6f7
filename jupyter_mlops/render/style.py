"""How each state looks, and how times read: one table for the widgets, the static SVG and the text summary.

The widgets receive STATE_STYLES as synced state, so the browser and the static fallback never disagree.
"""

from __future__ import annotations

import html
import math
from typing import Any

from ..models import RunInfo, RunState, StepInfo, StepState

# colour AND icon per state, so states read without colour vision too
STATE_STYLES: dict[str, dict[str, str]] = {
    "PENDING": {"fill": "#f3f4f6", "stroke": "#9ca3af", "text": "#374151", "icon": "○"},
    "RUNNING": {"fill": "#dbeafe", "stroke": "#2563eb", "text": "#1e3a8a", "icon": "◔"},
    "SUCCEEDED": {"fill": "#dcfce7", "stroke": "#16a34a", "text": "#14532d", "icon": "✓"},
    "CACHED": {"fill": "#ccfbf1", "stroke": "#0d9488", "text": "#134e4a", "icon": "↺"},
    "FAILED": {"fill": "#fee2e2", "stroke": "#dc2626", "text": "#7f1d1d", "icon": "✗"},
    "SKIPPED": {"fill": "#f5f5f4", "stroke": "#a8a29e", "text": "#57534e", "icon": "»"},
    "CANCELING": {"fill": "#fef3c7", "stroke": "#d97706", "text": "#78350f", "icon": "…"},
    "CANCELED": {"fill": "#fef3c7", "stroke": "#d97706", "text": "#78350f", "icon": "⊘"},
}
DEFINED = {"fill": "#ffffff", "stroke": "#6b7280", "text": "#111827", "icon": "■"}  # not-yet-run pipeline

# a step counts as done for the progress bar once it can no longer change
DONE_STATES = frozenset(s.value for s in StepState if s.terminal)
RUN_DONE_STATES = frozenset(s.value for s in RunState if s.terminal)


def state_style(state: str | None) -> dict[str, str]:
    if state is None:
        return DEFINED
    return STATE_STYLES.get(state, STATE_STYLES["PENDING"])


def format_duration(seconds: float | None) -> str:
    """'0.4s', '12s', '3m 05s', '1h 02m': short enough for a node. Halves round up, as the front ends'
    formatter (widgets/static/format.js) does, so a view drawn here and one drawn there say the same."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{math.floor(seconds * 10 + 0.5) / 10:.1f}s"
    s = math.floor(seconds + 0.5)
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m"


def step_elapsed(step: StepInfo, now: float) -> float | None:
    """A finished step's duration, or how long a running one has been going."""
    if step.started_at is None:
        return None
    end = step.finished_at if step.finished_at is not None else now
    return max(0.0, end - step.started_at)


def run_elapsed(info: RunInfo, now: float) -> float | None:
    start = info.started_at if info.started_at is not None else (info.created_at or None)
    if start is None:
        return None
    end = info.finished_at if info.finished_at is not None else now
    return max(0.0, end - start)


def progress(info: RunInfo) -> tuple[int, int]:
    """(steps done, steps in all)."""
    done = sum(1 for s in info.steps if _state(s) in DONE_STATES)
    return done, len(info.steps)


def _state(step: StepInfo) -> str:
    return step.state.value if isinstance(step.state, StepState) else str(step.state)


def state_name(state: Any) -> str:
    """The state's name whether given an enum or a string."""
    return str(getattr(state, "value", state))


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)

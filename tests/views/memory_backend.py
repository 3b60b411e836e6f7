"""A tiny in-memory Backend for unit tests of the views' RENDERING only (runs table, compare, static SVG).

Tests of live behaviour (polling, logs) use the real LocalBackend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_mlops.errors import RunNotFound
from jupyter_mlops.models import ArtifactInfo, Experiment, LogChunk, RunEvent, RunInfo, RunPage, RunState


class MemoryBackend:
    name = "memory"

    def __init__(
        self, runs: list[RunInfo] | None = None, logs: dict[tuple[str, str], str] | None = None
    ) -> None:
        self.runs = {r.id: r for r in runs or []}
        self.log_text = dict(logs or {})
        self.event_log: list[RunEvent] = []
        self.calls: list[str] = []

    def submit(
        self,
        pipeline_spec: Mapping[str, Any] | str,
        arguments: Mapping[str, Any] | None = None,
        *,
        experiment: str | None = None,
        name: str | None = None,
        cache: bool = True,
    ) -> RunInfo:
        raise NotImplementedError("the memory backend only holds runs given to it")

    def get(self, run_id: str) -> RunInfo:
        self.calls.append(f"get {run_id}")
        try:
            return self.runs[run_id]
        except KeyError:
            raise RunNotFound(f"no run {run_id}") from None

    def list_runs(
        self,
        *,
        experiment: str | None = None,
        state: RunState | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> RunPage:
        self.calls.append("list_runs")
        runs = sorted(self.runs.values(), key=lambda r: -r.created_at)
        runs = [
            r
            for r in runs
            if (experiment is None or r.experiment == experiment) and (state is None or r.state == state)
        ]
        return RunPage(runs=runs[offset : offset + limit], total=len(runs))

    def cancel(self, run_id: str) -> RunInfo:
        raise NotImplementedError

    def logs(self, run_id: str, step: str, offset: int = 0) -> LogChunk:
        text = self.log_text.get((run_id, step), "")
        return LogChunk(text=text[offset:], offset=offset, next_offset=len(text), complete=True)

    def artifacts(self, run_id: str, step: str | None = None) -> list[ArtifactInfo]:
        return []

    def experiments(self) -> list[Experiment]:
        return []

    def events(self, run_id: str, after: int = 0) -> list[RunEvent]:
        return [e for e in self.event_log if e.run_id == run_id and e.seq > after]

    def status(self) -> dict[str, Any]:
        return {"ok": True, "backend": "memory"}

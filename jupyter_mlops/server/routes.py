"""The route table of the server extension: URL patterns, relative to the server's base URL, and their
handlers. `MlopsExtensionApp` registers them; handlers never import the app."""

from __future__ import annotations

from .base import API_PREFIX, MlopsHandler, StatusHandler
from .event_handlers import RunEventsHandler
from .file_handlers import ArtifactHandler, StepLogHandler
from .run_handlers import CancelHandler, ExperimentsHandler, RunHandler, RunsHandler
from .schedule_handlers import SchedulesHandler, ScheduleStateHandler


def routes() -> list[tuple[str, type[MlopsHandler]]]:
    """The URL patterns and their handlers, relative to the server's base URL."""
    run = rf"{API_PREFIX}/runs/(?P<run_id>[^/]+)"
    step = rf"{run}/steps/(?P<step>[^/]+)"
    return [
        (rf"{API_PREFIX}/status", StatusHandler),
        (rf"{API_PREFIX}/experiments", ExperimentsHandler),
        (rf"{API_PREFIX}/runs", RunsHandler),
        (run, RunHandler),
        (rf"{run}/cancel", CancelHandler),
        (rf"{run}/events", RunEventsHandler),
        (rf"{step}/log", StepLogHandler),
        (rf"{step}/artifacts/(?P<name>[^/]+)", ArtifactHandler),
        (rf"{API_PREFIX}/schedules", SchedulesHandler),
        (rf"{API_PREFIX}/schedules/(?P<name>[^/]+)/(?P<verb>[^/]+)", ScheduleStateHandler),
    ]

"""`GET mlops/api/runs/{id}/events`: a run's events as server-sent events, for live views.

An EventSource reconnects with `Last-Event-ID`, so a dropped connection resumes after the last
event it saw. `?follow=false` sends the events so far and closes (for scripts and tests). When the
backend fails or the run disappears mid-stream, an `event: problem` ({status, message}) ends it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict

import tornado.web
from jupyter_server.auth.decorator import authorized
from tornado.iostream import StreamClosedError

from ..backends.base import Backend
from ..models import RunEvent, RunState
from ..render import finite_json
from ..store.run_notify import RunWatch, backend_watch
from .base import MlopsHandler, checked_int, http_error

POLL_S = 0.5
PUSHED_MIN_S = 0.02  # with changes pushed (local backend), the store is read at most this often
# A stream ends after this long; the browser's EventSource reconnects by itself, which also lets a
# server that is shutting down drain its connections.
STREAM_S = 300.0


class RunEventsHandler(MlopsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        after = self.int_argument("after", 0)
        last_id = self.request.headers.get("Last-Event-ID", "")
        if last_id.strip():
            # An EventSource sends back the last `id:` it saw; anything else is refused like `after`.
            after = max(after, checked_int("header 'Last-Event-ID'", last_id))
        follow = self.get_query_argument("follow", "true").lower()
        if follow not in {"true", "false", "1", "0"}:
            raise http_error(400, f"query parameter 'follow' must be true or false, got {follow!r}")

        watch: RunWatch | None = None  # the local backend pushes changes (store/run_notify.py)
        full_id: str | None = None  # `run_id` may be a prefix: the run's id, once read

        def read(b: Backend) -> tuple[bool, list[RunEvent]]:
            nonlocal watch, full_id
            # The run's state alone where the backend reads it so (one row: the whole run is every
            # step's, re-read per burst of changes of a 1,000-step run it cost more than the run's steps)
            read_state = getattr(b, "run_state", None)
            if full_id is None or read_state is None:
                run = b.get(run_id if full_id is None else full_id)
                full_id, state = run.id, run.state
            else:
                state = RunState(read_state(full_id))
            if watch is None:
                watch = backend_watch(b, full_id)  # before the events are read: no change is missed
            return state.terminal, b.events(full_id, after)

        finished, events = await self.backend_call(read)
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        deadline = time.monotonic() + STREAM_S
        try:
            while True:
                for event in events:
                    after = max(after, event.seq)
                    self.write(
                        f"id: {event.seq}\nevent: {event.kind}\ndata: {finite_json.dumps(asdict(event))}\n\n"
                    )
                await self.flush()
                if finished or follow in {"false", "0"} or time.monotonic() > deadline:
                    break
                if watch is not None:
                    await asyncio.sleep(PUSHED_MIN_S)  # a burst of changes is read and sent at once
                    await watch.wait_async(POLL_S)  # woken by a change, or a look every POLL_S
                else:
                    await asyncio.sleep(POLL_S)
                # Read the state before the events, so the last events of a finishing run are sent.
                try:
                    finished, events = await self.backend_call(read)
                except tornado.web.HTTPError as exc:
                    # The backend went away or the run was deleted mid-stream: say why and end the
                    # stream (the answer has begun, so no error status can be sent any more).
                    problem = {"status": exc.status_code, "message": exc.log_message or ""}
                    self.write(f"event: problem\ndata: {finite_json.dumps(problem)}\n\n")
                    break
        except StreamClosedError:
            return  # the browser went away
        finally:
            if watch is not None:
                watch.close()
        self.finish()

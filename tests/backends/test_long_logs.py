"""A step's log longer than one read (the backend answers a log in chunks of at most 1 MiB): `logs`
without --follow printed only the first chunk (96,249 of 200,000 lines, no word of the rest); now it
prints the whole log, as `--follow` and `Run.logs` do."""

# No `from __future__ import annotations`: kfp reads the component signature's real types.
import io
from pathlib import Path

from kfp import dsl

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.run_follow import print_logs
from jupyter_mlops.run_handle import Run

from .contract import finished
from .pipelines import IMAGE, compiled

LINES = 150_000


@dsl.component(base_image=IMAGE)
def chatty(count: int) -> int:
    import sys

    for i in range(count):
        print("line", i)
    for i in range(0, 101, 10):
        sys.stdout.write(f"\rprogress {i}%")  # a progress bar: no newline until the end
    print()
    return count


@dsl.pipeline(name="chatty")
def chatty_pipeline(count: int = LINES) -> None:
    chatty(count=count)


def test_a_log_longer_than_one_read_is_printed_whole(home: Path) -> None:
    backend = LocalBackend(home)
    run = finished(backend, backend.submit(compiled(chatty_pipeline)).id)
    assert backend.logs(run.id, "chatty").next_offset < (1 << 21)  # the log takes more than one read
    for follow in (False, True):
        out = io.StringIO()
        print_logs(backend, run.id, "chatty", follow=follow, out=out)
        printed = out.getvalue()
        numbered = [line for line in printed.splitlines() if line.startswith("line ")]
        assert len(numbered) == LINES and numbered[-1] == f"line {LINES - 1}", (follow, len(numbered))
        assert "progress 100%" in printed and "[KFP Executor" not in printed
    whole = str(Run(backend, run.id).logs("chatty"))
    assert f"line {LINES - 1}\n" in whole


def test_the_run_views_log_panel_shows_the_end_of_a_long_log(home: Path) -> None:
    """The step panel shows the log's last lines, read over several chunks."""
    from jupyter_mlops.widgets import run_view

    backend = LocalBackend(home)
    run = finished(backend, backend.submit(compiled(chatty_pipeline)).id)
    text, truncated = run_view(backend, run.id).log_tail("chatty")
    assert truncated and text.rstrip().endswith("progress 100%"), text[-200:]
    assert f"line {LINES - 1}\n" in text

"""An interrupt held until a submit is whole.

A submit records the run and hands it to a runner: an interrupt (Ctrl+C, the kernel's stop button)
landing between the two would leave a run recorded that nothing runs, or one that runs while the
user was shown only a traceback and no id. `held_interrupt()` holds the first SIGINT that arrives in
its block and tells it afterwards (the caller then says which run went on); a second one while the
block still runs is let through at once, so a submit that hangs can still be stopped.

It holds only where Python's own handler is in place in the main thread (a kernel running a cell, a
plain script): a handler someone else installed, or another thread, is left as it is.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Held:
    """Whether an interrupt arrived while held."""

    def __init__(self) -> None:
        self.interrupted = False


@contextmanager
def held_interrupt() -> Iterator[Held]:
    held = Held()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    try:
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            yield held
            return
    except ValueError:  # no signals here (an embedded interpreter)
        yield held
        return

    def hold(signum: int, frame: FrameType | None) -> None:
        if held.interrupted:  # pressed again: the user means it now
            raise KeyboardInterrupt
        held.interrupted = True

    signal.signal(signal.SIGINT, hold)
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)

"""The one way tests wait for something another process or thread does: poll until it holds.

No speed is asserted: the timeout only turns a hang into a failure that says what never happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T | None], timeout: float = 120.0, what: str = "condition", interval: float = 0.1
) -> T:
    """The first truthy value of `condition()`, polled every `interval` s; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)

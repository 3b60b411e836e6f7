"""The one way tests count the calls of a function: replaced, for the test, by one that records each
call's positional arguments and then calls it."""

from __future__ import annotations

from typing import Any

import pytest


def calls_of(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[tuple[Any, ...]]:
    """`owner.name` replaced (until the test ends) by a function that appends each call's positional
    arguments to the list returned, then answers as the real one."""
    real = getattr(owner, name)
    calls: list[tuple[Any, ...]] = []

    def recorded(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, recorded)
    return calls

"""kfp's name helpers, remembered while the compiler has kfp build a pipeline: the same IR, made in
linear time instead of quadratic.

kfp (2.17) cleans task names with two regular-expression substitutions (`kfp.dsl.utils.
maybe_rename_for_k8s`), and builds a DAG by cleaning, for each of its tasks, the names of all its
tasks (`pipeline_spec_builder.build_spec_by_group`): n² substitutions, about 3 s of a 1,000-step
pipeline. The helpers are pure (a name in, a name out), so while `remembered_names()` is active the
module's `maybe_rename_for_k8s` and `sanitize_task_name` answer each name from a table after its
first time: kfp's own functions still make every name, once each. kfp calls them through the module
(`utils.NAME(...)`), so replacing the module's attributes is enough; they are put back on leaving.
Another kfp without these helpers builds as it is. The compiler holds its kfp lock meanwhile, and
other threads that use kfp at the same time get the same answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# The pure `str -> str` helpers of kfp.dsl.utils that kfp calls once per task and task of a DAG.
_PURE = ("maybe_rename_for_k8s", "sanitize_task_name")


@contextmanager
def remembered_names() -> Iterator[None]:
    """While active, kfp's name cleaning answers each name it has seen from a table."""
    from kfp.dsl import utils

    saved: dict[str, Callable[[str], str]] = {}
    for name in _PURE:
        function = getattr(utils, name, None)
        if not callable(function):
            yield  # a kfp without them: nothing to remember
            return
        saved[name] = function
    for name, function in saved.items():
        setattr(utils, name, functools.lru_cache(maxsize=None)(function))
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(utils, name, function)

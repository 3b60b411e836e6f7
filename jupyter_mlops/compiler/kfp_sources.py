"""kfp's reading of a function's source, remembered per function while the compiler has kfp build a
pipeline: with `--inline-runtime` every step carries the same runtime functions, which kfp read again,
token by token (`inspect.getsource`), for every step.

kfp (2.17) reads each function a component embeds through `kfp.dsl.component_factory.
_get_function_source_definition(func)`, called through the module. The functions our compiler hands
kfp are made from source it registered itself (`kfp_ir._define`) and are never redefined, so while
`remembered_sources()` is active that helper answers a function it has read from a table: kfp's own
function still reads each one, once. A kfp without the helper builds as it is. The compiler holds its
kfp lock meanwhile.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_READ = "_get_function_source_definition"


@contextmanager
def remembered_sources() -> Iterator[None]:
    """While active, kfp reads the source of each function object once."""
    from kfp.dsl import component_factory

    read: Callable[[Any], str] | None = getattr(component_factory, _READ, None)
    if not callable(read):
        yield  # another kfp: nothing to remember
        return
    setattr(component_factory, _READ, functools.lru_cache(maxsize=None)(read))
    try:
        yield
    finally:
        setattr(component_factory, _READ, read)

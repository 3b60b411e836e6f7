"""kfp's reading of a function's source, while the compiler has kfp build a pipeline: remembered per
function, and answered from the text the compiler generated for a step's function.

kfp (2.17) reads each function a component embeds through `kfp.dsl.component_factory.
_get_function_source_definition(func)`, called through the module, which calls `inspect.getsource`
(through the module's `inspect`): the source tokenized back from `linecache`, ~0.3 ms a step, half
of what `dsl.component` costs. Two remedies while `remembered_sources()` is active:

- that helper answers a function it has read from a table (with `--inline-runtime` every step carries
  the same runtime functions, which kfp read again for every step);
- `inspect.getsource`, as kfp's module sees it, answers a function the compiler generated
  (`kfp_ir._define`, `remember`) with the text it was made from, when that text is the function alone
  (its `def` on the first line, every other line indented, none blank, the last one code, a final
  newline): then inspect's answer is that whole text. The first answer in a process is checked
  against inspect's own; if they differ, inspect answers from then on. kfp's own code still does
  everything else with the text (dedent, decorators, what it embeds).

kfp then cleans the text it read (`textwrap.dedent`, then the lines before the first `def` dropped),
which leaves such a text as it is (its `def` at column 0, no blank line): the helper answers a generated
function with its text directly, its first answer in a process checked against kfp's own.

And kfp's parse of a function's docstring (`docstring_parser.parse`, through the module's
`docstring_parser`: four styles tried, ~30 µs even for none) answers a text it has parsed from a
table: the step functions kfp reads have no docstring (step_interface.py), so it parses once.

And, per component: kfp asks for the function's signature twice (its interface, and its custom
artifact types through `kfp.dsl.types.custom_artifact_types`' `inspect`), made once for a generated
function; its source file (`inspect.getsourcefile`: a stat of the cwd, then its module looked up,
then linecache) is the linecache name it was registered under, which inspect answers whichever way it
finds it; and kfp's two `textwrap.dedent` calls on its constant templates are remembered.

A kfp without the helper builds as it is. The compiler holds its kfp lock meanwhile.
"""

from __future__ import annotations

import functools
import inspect
import linecache
import textwrap
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_READ = "_get_function_source_definition"

# function -> (its source, the lines linecache held for it when it was made)
_GENERATED: weakref.WeakKeyDictionary[Callable[..., Any], tuple[str, list[str]]] = weakref.WeakKeyDictionary()
_trusted: bool | None = None  # whether the first answer matched inspect's (None: not asked yet)


def remember(function: Callable[..., Any], source: str) -> None:
    """`function` was made by compiling `source` alone, registered in linecache under its filename."""
    code = getattr(function, "__code__", None)
    lines = _cached_lines(code.co_filename) if code is not None else None
    if code is None or lines is None or code.co_firstlineno != 1 or not _alone(source):
        return
    _GENERATED[function] = (source, lines)


def _cached_lines(filename: str) -> list[str] | None:
    """The lines linecache holds for `filename` (None if none, or only a loader to read them with)."""
    entry = linecache.cache.get(filename)
    return entry[2] if entry is not None and len(entry) == 4 else None


def _alone(source: str) -> bool:
    """Whether inspect gives back all of `source` for the function it defines on its first line."""
    if not source.startswith("def ") or not source.endswith("\n"):
        return False
    lines = source[:-1].split("\n")
    if len(lines) < 2 or lines[-1].lstrip().startswith("#"):
        return False
    return all(line[:1] in (" ", "\t") and line.strip() for line in lines[1:])


def known_source(function: Any) -> str | None:
    """The text `function` was generated from, which is what `inspect.getsource` gives for it; None
    for any other function (or if linecache no longer holds that text)."""
    global _trusted
    try:
        known = _GENERATED.get(function)
    except TypeError:  # not weakly referable: not one of ours
        return None
    if known is None or _trusted is False:
        return None
    source, lines = known
    if _cached_lines(function.__code__.co_filename) is not lines:
        return None
    if _trusted is None:
        _trusted = inspect.getsource(function) == source
        if not _trusted:
            return None
    return source


_definitions_trusted: bool | None = None  # whether kfp's own helper gave the text back (None: not asked)


def _known_definition(function: Any, read: Callable[[Any], str]) -> str | None:
    """What kfp's `_get_function_source_definition` (`read`) gives for a generated function: its text,
    which kfp's cleaning leaves as it is; None for any other function."""
    global _definitions_trusted
    source = known_source(function)
    if source is None or _definitions_trusted is False:
        return None
    if _definitions_trusted is None:
        _definitions_trusted = read(function) == source
        if not _definitions_trusted:
            return None
    return source


class _KnownSources:
    """The `inspect` module as kfp's component factory (and its custom artifact types' module) sees
    it: `getsource` and `getsourcefile` know generated functions, and `signature` is made once for
    each (kfp asks for it twice a component)."""

    def __init__(self) -> None:
        self._signatures: weakref.WeakKeyDictionary[Any, inspect.Signature] = weakref.WeakKeyDictionary()

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    @staticmethod
    def getsource(obj: Any) -> str:
        known = known_source(obj)
        return known if known is not None else inspect.getsource(obj)

    @staticmethod
    def getsourcefile(obj: Any) -> str | None:
        # A generated function's file is its name in linecache (known_source: linecache holds its text),
        # which inspect answers whichever way it finds it (the file exists, its module has a loader,
        # or linecache has it).
        if known_source(obj) is not None:
            return str(obj.__code__.co_filename)
        return inspect.getsourcefile(obj)

    def signature(self, obj: Any, *args: Any, **kwargs: Any) -> inspect.Signature:
        if args or kwargs or known_source(obj) is None:
            return inspect.signature(obj, *args, **kwargs)
        found = self._signatures.get(obj)  # (a Signature is immutable; the function is not changed)
        if found is None:
            found = self._signatures[obj] = inspect.signature(obj)
        return found


class _RememberedDedent:
    """The `textwrap` module as kfp's component factory sees it: `dedent` remembers its answers (kfp
    dedents the same two templates for every component)."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.dedent = functools.lru_cache(maxsize=64)(module.dedent)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


class _RememberedDocstrings:
    """The `docstring_parser` module as kfp's component factory sees it: `parse` remembers its answers
    (kfp only reads them)."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.parse = functools.lru_cache(maxsize=None)(module.parse)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


@contextmanager
def remembered_sources() -> Iterator[None]:
    """While active, kfp reads the source of each function object once, a generated one not at all (nor
    cleans its text)."""
    from kfp.dsl import component_factory

    read: Callable[[Any], str] | None = getattr(component_factory, _READ, None)
    if not callable(read):
        yield  # another kfp: nothing to remember
        return
    remembered = functools.lru_cache(maxsize=None)(read)

    def definition(function: Any) -> str:
        known = _known_definition(function, read)
        return known if known is not None else remembered(function)

    setattr(component_factory, _READ, definition)
    known = _KnownSources()
    seen_as = getattr(component_factory, "inspect", None)
    if seen_as is inspect:
        component_factory.inspect = known
    artifact_types = _artifact_types_module()
    if artifact_types is not None:
        artifact_types.inspect = known
    docstrings = getattr(component_factory, "docstring_parser", None)
    if callable(getattr(docstrings, "parse", None)):
        component_factory.docstring_parser = _RememberedDocstrings(docstrings)
    textwrap_seen = getattr(component_factory, "textwrap", None)
    if textwrap_seen is textwrap:
        component_factory.textwrap = _RememberedDedent(textwrap)
    try:
        yield
    finally:
        setattr(component_factory, _READ, read)
        if seen_as is inspect:
            component_factory.inspect = inspect
        if artifact_types is not None:
            artifact_types.inspect = inspect
        if docstrings is not None:
            component_factory.docstring_parser = docstrings
        if textwrap_seen is textwrap:
            component_factory.textwrap = textwrap


def _artifact_types_module() -> Any:
    """kfp's module that reads a component's custom artifact types (its `inspect.signature`), if it
    reads them through the `inspect` module."""
    try:
        from kfp.dsl.types import custom_artifact_types
    except ImportError:
        return None
    return custom_artifact_types if getattr(custom_artifact_types, "inspect", None) is inspect else None

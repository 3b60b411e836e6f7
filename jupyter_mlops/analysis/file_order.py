"""Steps that share files through their working directory run in notebook order, and are not cached.

In a notebook, a cell that saves `figures/fit.png` runs after the cell that made `figures/`, and a cell
listing `figures/` runs after both. Names do not show this, so the plan adds ordering edges (label
"files") from what `file_effects` finds in each step's code:

- a step that uses files (reads or writes) runs after the latest earlier step that may write files;
  writers are thereby in notebook order, and a reader sees what every earlier writer left;
- a step that may write files also runs after the steps reading files since that writer, so they read
  before it changes them;
- steps that only read files are not ordered among themselves, and steps touching no files keep all
  their parallelism.

A step that uses files is not served from the cache by default: a cached step gives back its outputs
but does not redo its writes (a deleted figure would stay missing), and does not see files that changed
(an edited `data/train.csv` would give the old result). Later steps still hit the cache when the
re-run's outputs are the same (the cache key holds the inputs' contents). `%%component NAME --cache`
caches it anyway. The setup cell's own top-level code is not counted (every step runs it first, in its
own process); its functions are, where a step calls them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import CellError
from ..notebook.options import StepOptions
from .cell_python import parse_python, to_python
from .file_effects import (
    FileEffects,
    file_effects,
    imported_names,
    looks_like_path,
    path_constants,
    setup_helpers,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..notebook.pipeline import Pipeline
    from .cell import CellAnalysis

FILES_LABEL = "files"  # the label of a file-order edge in the plan (and in `%pipeline show`)


@dataclass(frozen=True)
class FileOrder:
    effects: dict[str, FileEffects]  # step -> what it may do with files
    after: dict[str, tuple[str, ...]]  # step -> earlier steps it runs after because of files
    notes: dict[str, list[tuple[int | None, str]]]  # step -> (user line, message) for the plan

    def options(self, step: str, options: StepOptions) -> StepOptions:
        """The step's options with caching off when it uses files (unless it says --cache)."""
        if self.effects[step].uses_files and options.cache and not options.force_cache:
            return replace(options, cache=False)
        return options


def _tree(source: str, cell: str, analysis: CellAnalysis | None) -> ast.Module | None:
    """The cell's tree: its analysis's when there is one (parsed once), else parsed here."""
    if analysis is not None:
        return analysis.syntax_tree()
    try:
        return parse_python(to_python(source, cell=cell).text)
    except (CellError, SyntaxError):  # the cell's analysis reports it
        return None


def _setup_facts(
    setup: ast.Module | None, aliases: dict[str, str]
) -> tuple[dict[str, FileEffects], set[str]]:
    """The setup cell's functions touching files, and its top-level names holding paths."""
    if setup is None:
        return {}, set()
    return setup_helpers(setup, aliases=aliases), path_constants(setup)


def file_order(
    pipeline: Pipeline,
    analyses: Mapping[str, CellAnalysis] | None = None,
    setup: CellAnalysis | None = None,
) -> FileOrder:
    """Ordering edges and notes for the steps of `pipeline` that share files (in notebook order).

    `analyses` (step -> its analysis) and `setup` (the setup cells') give the cells' trees, so that
    no cell is parsed again here; a cell without one is parsed."""
    analyses = analyses or {}
    trees = {s.name: _tree(s.source, s.name, analyses.get(s.name)) for s in pipeline}
    setup_tree = _tree(pipeline.setup, "%%pipeline setup", setup) if pipeline.setup.strip() else None
    aliases: dict[str, str] = {}
    for tree in trees.values():  # imports travel into the steps that use them, so any cell's count
        aliases.update(imported_names(tree) if tree is not None else {})
    if setup_tree is not None:
        aliases.update(imported_names(setup_tree))
    helpers, setup_paths = _setup_facts(setup_tree, aliases)
    # Parameters and setup values holding paths (`out_dir = "results/"`) count where a call is given them.
    paths = {
        p.name for p in pipeline.params.values() if isinstance(p.default, str) and looks_like_path(p.default)
    }
    paths |= setup_paths
    effects: dict[str, FileEffects] = {}
    for s in pipeline:
        known = analyses.get(s.name)
        if known is not None:
            effects[s.name] = file_effects(
                known.syntax_tree(),
                aliases=aliases,
                helpers=helpers,
                path_names=paths,
                user_line=known.user_line,
            )
            continue
        try:
            effects[s.name] = file_effects(
                s.source, first_line=2, cell=s.name, aliases=aliases, helpers=helpers, path_names=paths
            )
        except (CellError, SyntaxError):  # the cell's analysis reports it, with its line
            effects[s.name] = FileEffects()
    after: dict[str, tuple[str, ...]] = {}
    notes: dict[str, list[tuple[int | None, str]]] = {}
    writer: str | None = None
    readers: list[str] = []  # steps reading files since `writer`
    for step in pipeline:
        found, deps, said = effects[step.name], [], notes.setdefault(step.name, [])
        first, written = found.first, found.write
        if first is None:
            after[step.name] = ()
            continue
        if writer is not None:
            use = effects[writer].write
            assert use is not None
            deps.append(writer)
            said.append(
                (
                    first.line,
                    f"uses files in the notebook's folder after step {writer!r}, which writes files "
                    f"(line {use.line}: {use.what}); runs after it",
                )
            )
        if written is None:
            readers.append(step.name)
        else:
            for reader in readers:
                read = effects[reader].read
                assert read is not None
                deps.append(reader)
                said.append(
                    (
                        written.line,
                        f"writes files after step {reader!r}, which reads files (line {read.line}: "
                        f"{read.what}); runs after it, so {reader!r} reads them before they change",
                    )
                )
            writer, readers = step.name, []
        cache_note = _cache_note(found, step.options)
        if cache_note:
            said.append(cache_note)
        after[step.name] = tuple(deps)
    return FileOrder(effects=effects, after=after, notes=notes)


def _cache_note(found: FileEffects, options: StepOptions) -> tuple[int, str] | None:
    """Why a step using files re-runs each time (or that --cache keeps it cached anyway)."""
    if not options.cache and not options.force_cache:
        return None
    if found.write is not None:
        use, why = found.write, "outputs from cache would not recreate the files"
        forced = "does not recreate them"
        message = f"writes files: re-runs each time; {why} ({use.what})."
    elif found.read is not None:
        use, why = found.read, "a result from cache would not see files that changed"
        forced = "does not see files that changed"
        message = (
            f"reads files: re-runs each time; {why} ({use.what}). Later steps still reuse their "
            "cache when its outputs are unchanged."
        )
    else:
        return None
    if options.force_cache:
        kind = "writes" if found.write is not None else "reads"
        return (
            use.line,
            f"{kind} files ({use.what}) and is cached anyway (--cache): a run from cache {forced}",
        )
    return use.line, message + " Add --cache to the %%component line to cache it anyway"

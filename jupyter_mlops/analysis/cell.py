"""What a notebook cell does with names: the facts the pipeline's data flow is inferred from.

`analyze_cell` turns the cell's IPython source into plain Python (`cell_python`), parses and
compiles it (so syntax errors surface with the user's line numbers), gives each `from m import *`
the names it binds (`star_imports`), and walks it (`name_flow`).

Choices worth knowing:
- Annotations count as reads where Python 3.10-3.13 evaluates them: function signatures, and
  variables annotated in module or class bodies, unless the cell has
  `from __future__ import annotations`. A local variable's annotation is never evaluated.
- A cell changes (`mutates`) every outside value it MAY change in place: through `x[...] = `,
  `x.a = `, their augmented forms, `del x[...]`/`del x.a`, a method call on x or a part of it
  (`model.fit(..)`, `df.drop(.., inplace=True)`), passing x to a call (`helper(x)`), and any of
  these through a name that may refer to x (`d = x`, `for d in [x]`); see `name_changes`. Calls
  known to be read-only (`readonly_calls`: `model.predict`, `df.head`, `len`, `np.mean`, ...) change
  nothing. When the analysis cannot know (an unknown method or function, an alias), the value still
  counts as changed, and `may_change` says why (the plan notes it when a later step reads it).
- Top-level `await` is accepted (IPython runs it); `top_level_await` tells the compiler.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field

from jupyter_mlops.analysis.alias_groups import code_names, shared_values
from jupyter_mlops.analysis.cell_python import PythonSource, parse_python, syntax_error, to_python
from jupyter_mlops.analysis.changes import FunctionSummary
from jupyter_mlops.analysis.flow import analyze_names
from jupyter_mlops.analysis.function_summaries import summarize_functions
from jupyter_mlops.analysis.star_imports import expand_star_imports

# (source, label, first line) -> the cell converted, parsed and checked: what does not depend on
# the other cells, shared by the analyses of one compile (across_cells.py).
Prepared = dict[tuple[str, str, int], tuple[PythonSource, ast.Module]]

# Calls whose value IPython would show as nothing worth keeping.
_SILENT_CALLS = frozenset({"print", "display"})


@dataclass(frozen=True)
class CellAnalysis:
    cell: str  # the cell's label in messages, e.g. "train" or "[3]"
    source: str  # the plain Python a step runs (IPython lines handled)
    # Module-level names the cell needs from outside for sure: read (also inside its functions,
    # lambdas, comprehensions and class bodies) before the cell's top-level flow binds them, or read
    # in a nested scope and never bound at top level. Builtins are included.
    reads: frozenset[str]
    # Names bound at top level (assignment, augmented and annotated assignment with a value, import,
    # def, class, for/with/except targets, walrus also in comprehensions, match captures) or
    # assigned in a function that declares them `global`.
    binds: frozenset[str]
    mutates: frozenset[str]  # outside names changed in place: x[i] = .., x.a = .., del x[i], ...
    deletes: frozenset[str]  # names the cell leaves unbound: `del x` (and `except ... as x` names)
    imports: dict[str, str]  # top-level bound name -> top-level module (`import numpy as np`: np -> numpy)
    last_expression: str | None  # a bare expression on the last line, as IPython would show it
    # Names the cell reads where it may or may not have bound them itself (after an `if` that binds
    # in one branch, in a loop, in a function defined before a binding): an input if an earlier step
    # produces them, never an error.
    maybe_reads: frozenset[str] = frozenset()
    maybe_binds: frozenset[str] = frozenset()  # bound on some paths only (in an `if`, a loop, ...)
    read_lines: dict[str, int] = field(default_factory=dict)  # reads and maybe_reads -> first line
    imported_modules: frozenset[str] = frozenset()  # every top-level module imported, also in functions
    top_level_await: bool = False
    # Things the user should know about how this cell becomes a step, without it being an error
    # (a display-only line dropped, a value that may change, ...): (user's line or None, message).
    notes: tuple[tuple[int | None, str], ...] = ()
    # Of `mutates`: values the analysis cannot be sure the cell changes (an unknown call, an alias)
    # -> (the user's line, why they may change). The plan notes those later steps read.
    may_change: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    import_paths: dict[str, str] = field(default_factory=dict)  # import binds -> dotted path
    definitions: frozenset[str] = frozenset()  # top-level names bound by def or class (or a factory)
    line_map: tuple[int, ...] = ()  # line_map[n - 1] = the user's line of line n of `source`
    summaries: Mapping[str, FunctionSummary] = field(default_factory=dict)  # its functions' changes
    # (targets, sources): module-level names that may share objects with what the sources held,
    # once the cell ran (`frames = [df]`, `d = df`, `lst.append(x)`): see `alias_groups`; the data
    # flow keeps them together (`alias_flow`).
    shares: tuple[tuple[frozenset[str], frozenset[str]], ...] = ()
    # The parsed `source`, kept so that later passes (the planner, seeds, constants) walk it instead of
    # parsing the cell again. Read-only: nothing may change it in place.
    tree: ast.Module | None = field(default=None, compare=False, repr=False)

    def syntax_tree(self) -> ast.Module:
        """`source` parsed: the tree the analysis walked (parsed here if the analysis was built by hand)."""
        return self.tree if self.tree is not None else ast.parse(self.source)

    def user_line(self, line: int) -> int:
        """The user's line number for line `line` of `source`."""
        if not self.line_map:
            return line
        return self.line_map[min(max(line, 1), len(self.line_map)) - 1]

    @property
    def all_reads(self) -> frozenset[str]:
        """Every name the cell may need from outside (`reads` and `maybe_reads`)."""
        return self.reads | self.maybe_reads


def analyze_cell(
    source: str,
    *,
    cell: str,
    first_line: int = 1,
    outside_code: Mapping[str, str] | None = None,
    summaries: Mapping[str, FunctionSummary] | None = None,
    prepared: Prepared | None = None,
) -> CellAnalysis:
    """Analyse one cell; CellError for syntax errors, IPython lines a step cannot run, `import *`.

    `first_line` is the user's number for the first line of `source` (2 when `source` is the body
    of a `%%component` cell), so messages point where the user looks. A leading `%%component` or
    `%%pipeline` header line is also accepted and ignored. `outside_code`: names other cells bind
    to imports (-> dotted path, so `np.mean` is known to be numpy's) and to defs and classes (-> '');
    `summaries`: what the setup cell's functions may change when called (the cell's own functions
    are summarized here). `prepared`: cells converted, parsed and checked already (by an earlier
    analysis of the same compile), kept there by source, label and first line.
    """
    key = (source, cell, first_line)
    python, tree = prepared[key] if prepared is not None and key in prepared else _prepare(*key)
    if prepared is not None:
        prepared[key] = (python, tree)
    known = summarize_functions(tree, outside_code=outside_code, known=summaries)
    names = analyze_names(
        tree,
        lazy_annotations=_has_lazy_annotations(tree),
        outside_code=outside_code,
        summaries={**(summaries or {}), **known},
    )
    surely_bound = names.binds - names.maybe_binds - names.deletes
    unsure = {
        n: (python.user_line(line) or first_line, why)
        for n, (line, why) in sorted(names.unsure_changes.items())
        if n not in surely_bound
    }
    user_lines = {
        name: python.user_line(line) or first_line
        for name, line in [*names.maybe_reads.items(), *names.reads.items()]
    }
    code = code_names(
        binds=names.binds,
        imports=names.imports,
        definitions=names.definitions,
        outside_code=(outside_code or {}).keys(),
    )
    shares = shared_values(
        tree,
        import_paths={**(outside_code or {}), **names.import_paths},
        code=code,
        summaries={**(summaries or {}), **known},
    )
    return CellAnalysis(
        cell=cell,
        source=python.text,
        reads=frozenset(names.reads),
        binds=frozenset(names.binds),
        mutates=frozenset(names.mutates),
        deletes=frozenset(names.deletes),
        imports=names.imports,
        last_expression=_last_expression(tree, python.text),
        maybe_reads=frozenset(names.maybe_reads),
        maybe_binds=frozenset(names.maybe_binds),
        read_lines=user_lines,
        imported_modules=frozenset(names.imported_modules),
        top_level_await=names.top_level_await,
        notes=python.notes,  # display-only IPython lines left out of the step
        may_change=unsure,
        import_paths=names.import_paths,
        definitions=frozenset(names.definitions),
        line_map=python.line_map,
        summaries=known,
        shares=shares,
        tree=tree,
    )


def _prepare(source: str, cell: str, first_line: int) -> tuple[PythonSource, ast.Module]:
    """The cell as plain Python, parsed and checked, its star imports given their names."""
    python = to_python(source, cell=cell, first_line=first_line)
    try:
        tree = parse_python(python.text)  # parsed once, shared by every pass (read-only)
        # Compiling finds what the parser lets through (`return` outside a function, a misplaced
        # `nonlocal`, ...). IPython accepts top-level `await`, so do we.
        compile(tree, f"<cell {cell}>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError as exc:
        raise syntax_error(python, exc, cell=cell) from None
    expand_star_imports(tree, python, cell)  # `from m import *`: the names it binds
    return python, tree


def _has_lazy_annotations(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )


def _last_expression(tree: ast.Module, text: str) -> str | None:
    """The source of the bare expression on the cell's last line, None if IPython shows nothing."""
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return None
    value = tree.body[-1].value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _SILENT_CALLS:
        return None
    # IPython hides the value when the cell's last token (comments aside) is `;`. Nothing but a `;`
    # and a comment can follow the last statement on its line.
    statement = tree.body[-1]  # its span includes parentheses around the value
    end_line = text.splitlines()[(statement.end_lineno or statement.lineno) - 1]
    rest = end_line.encode()[statement.end_col_offset or 0 :].decode(errors="ignore")
    if rest.lstrip().startswith(";"):
        return None
    return ast.get_source_segment(text, value)

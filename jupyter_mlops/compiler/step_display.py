"""Which steps may show something (a figure, `display(...)`): those get a figures output (step_figures.py).

Decided from the code, before anything runs, generously: a step that turns out to draw nothing keeps
an empty list of figures, a step wrongly left out would lose what it drew.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ..analysis.cell import CellAnalysis
from ..analysis.tree_nodes import walk

_DRAWING_MODULES = frozenset({"matplotlib", "seaborn", "plotnine", "PIL"})
_DRAWING_METHODS = frozenset({"plot", "hist", "imshow", "boxplot", "scatter"})  # df.plot(), ax.imshow()


def shows_figures(tree: ast.Module, analysis: CellAnalysis, setup_imports: Iterable[str]) -> bool:
    """True if the cell may draw or display: it or the setup imports a drawing library, it calls
    display(), or it calls a plotting method (`df.plot()`, `series.hist()`)."""
    modules = {m.split(".")[0] for m in [*analysis.imported_modules, *setup_imports]}
    if modules & _DRAWING_MODULES or "display" in analysis.reads:
        return True
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _DRAWING_METHODS
        for node in walk(tree)
    )

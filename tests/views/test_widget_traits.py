"""No view redefines a trait every DOM widget has (issue 11).

The widget manager reads `layout` (and `tooltip`, `tabbable`, ...) of every DOM widget the way
ipywidgets defines them: `layout` is a reference to a Layout model, which the front end turns into a
child view. The run view once synced its DAG drawing as a dict named `layout`; each render then threw
`TypeError: Cannot read properties of undefined (reading 'then')` in `create_child_view`
(tests/browser/test_results_views.py sees the browser side)."""

from __future__ import annotations

import ipywidgets
import pytest

from jupyter_mlops.widgets.compare import CompareView
from jupyter_mlops.widgets.run_widget import DagView, RunView
from jupyter_mlops.widgets.runs_widget import RunsTable


@pytest.mark.parametrize("view", [DagView, RunView, RunsTable, CompareView])
def test_a_view_keeps_the_dom_widget_traits_as_ipywidgets_defines_them(view: type) -> None:
    base = ipywidgets.DOMWidget.class_traits(sync=True)
    ours = view.class_traits(sync=True)
    redefined = [name for name in base if type(ours[name]) is not type(base[name])]
    assert not redefined, f"{view.__name__} redefines {redefined}: name its own trait differently"


def test_the_pipeline_view_draws_from_dag_layout() -> None:
    view = DagView(["a", "b"], [("a", "b")])
    assert isinstance(view.layout, ipywidgets.Layout)
    assert [n["id"] for n in view.dag_layout["nodes"]] == ["a", "b"]

"""Our widgets keep ipywidgets' own traits as ipywidgets defines them. A widget manager treats a
DOMWidget's `layout` as a reference to a Layout model: a run view whose `layout` was the DAG's drawing
made every widget manager (JupyterLab's, Colab's, the HTML manager) fail on it ("Cannot read properties of
undefined (reading 'then')", found by tests/newcomer/test_colab.py's page)."""

from __future__ import annotations

import ipywidgets
import traitlets

from jupyter_mlops.widgets.compare import CompareView
from jupyter_mlops.widgets.mime import MimeView
from jupyter_mlops.widgets.run_widget import DagView, RunView
from jupyter_mlops.widgets.runs_widget import RunsTable

SHADOWABLE = ipywidgets.DOMWidget.class_traits()


def test_no_widget_of_ours_redefines_a_trait_of_ipywidgets_domwidget() -> None:
    for cls in (MimeView, DagView, RunView, RunsTable, CompareView):
        for name, trait in cls.class_traits().items():
            if name in SHADOWABLE:
                assert type(trait) is type(SHADOWABLE[name]), (cls.__name__, name, trait)


def test_the_dag_view_keeps_its_layout_model_and_draws_from_its_own_trait() -> None:
    view = DagView(["load", "train"], [("load", "train")])
    assert isinstance(view.layout, ipywidgets.Layout)
    assert [n["id"] for n in view.dag["nodes"]] == ["load", "train"]
    assert isinstance(RunView.class_traits()["dag"], traitlets.Dict)

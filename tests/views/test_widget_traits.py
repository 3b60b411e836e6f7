"""Our widgets keep ipywidgets' own traits as ipywidgets defines them. A widget manager treats a
DOMWidget's `layout` as a reference to a Layout model: a run view whose `layout` was the DAG's drawing
made every widget manager (JupyterLab's, Colab's, the HTML manager) fail on it ("Cannot read properties of
undefined (reading 'then')", found by tests/newcomer/test_colab.py's page)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets
import traitlets

import jupyter_mlops
from jupyter_mlops.widgets.run_widget import DagView, RunView

SHADOWABLE = ipywidgets.DOMWidget.class_traits()


def our_widgets() -> list[type[Any]]:
    """Every AnyWidget class in the package (each module that mentions anywidget's classes imported)."""
    for info in pkgutil.walk_packages(jupyter_mlops.__path__, "jupyter_mlops."):
        spec = importlib.util.find_spec(info.name)
        source = Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None
        if source and any(word in source.read_text(encoding="utf-8") for word in ("AnyWidget", "View)")):
            importlib.import_module(info.name)
    found, todo = [], [anywidget.AnyWidget]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("jupyter_mlops."):
                found.append(sub)
    return found


def test_no_widget_of_ours_redefines_a_trait_of_ipywidgets_domwidget() -> None:
    widgets = our_widgets()
    assert {"MimeView", "DagView", "RunView", "RunsTable", "CompareView"} <= {w.__name__ for w in widgets}
    for cls in widgets:
        for name, trait in cls.class_traits().items():
            if name in SHADOWABLE:
                assert type(trait) is type(SHADOWABLE[name]), (cls.__name__, name, trait)


def test_the_dag_view_keeps_its_layout_model_and_draws_from_its_own_trait() -> None:
    view = DagView(["load", "train"], [("load", "train")])
    assert isinstance(view.layout, ipywidgets.Layout)
    assert [n["id"] for n in view.dag["nodes"]] == ["load", "train"]
    assert isinstance(RunView.class_traits()["dag"], traitlets.Dict)

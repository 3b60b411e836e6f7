"""What every view puts in its output: the widget, a static HTML drawing of its current state, and text.

nbconvert, GitHub and frontends without a widget manager fall back to `text/html`; terminal IPython
shows `text/plain`. A view shown through `display()` keeps its display ids, so that when its content is
final (a run that ended) the static parts saved in the notebook can be replaced by the final state.
"""

from __future__ import annotations

import uuid
from typing import Any

import anywidget
import traitlets

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def widget_frontend_available() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook 7, Colab, VS Code); False in terminal IPython."""
    from IPython.core.getipython import get_ipython

    shell = get_ipython()  # type: ignore[no-untyped-call,unused-ignore]
    return shell is not None and getattr(shell, "kernel", None) is not None


class MimeView(anywidget.AnyWidget):
    """An anywidget whose output also carries its static HTML and text renderings."""

    # anywidget adds `_esm`, `_css` and `_anywidget_id` to every new instance, by making a class for it
    # (add_traits): a view whose class declares them as traits (`_esm`/`_css` as synced Unicode traits)
    # is made without that, in about two thirds of the time. Same state for the front end.
    _anywidget_id = traitlets.Unicode().tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._display_ids: list[str] = []

    @traitlets.default("_anywidget_id")
    def _default_anywidget_id(self) -> str:
        return f"{type(self).__module__}.{type(self).__name__}"  # as anywidget names it

    def add_traits(self, **traits: Any) -> None:
        missing = {name: trait for name, trait in traits.items() if not self.has_trait(name)}
        if missing:
            super().add_traits(**missing)

    # subclasses say what their current state looks like without JavaScript
    def static_html(self) -> str:
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        data: dict[str, Any] = {"text/plain": self.text()}
        metadata: dict[str, Any] = {}
        if widget_frontend_available():
            data["text/html"] = self.static_html()
            if self.comm is not None:  # closed widgets cannot be drawn live
                bundle = super()._repr_mimebundle_(**kwargs)
                if bundle is not None:
                    data[WIDGET_MIME] = bundle[0][WIDGET_MIME]
                    metadata = bundle[1]
        return data, metadata

    def _ipython_display_(self) -> None:
        from IPython.display import display

        data, metadata = self._repr_mimebundle_()
        display_id = uuid.uuid4().hex
        self._display_ids.append(display_id)
        display(data, metadata=metadata, raw=True, display_id=display_id)  # type: ignore[no-untyped-call,unused-ignore]

    def refresh_displays(self) -> None:
        """Re-send this view's outputs, so the saved static HTML and text show its current state."""
        if not self._display_ids or not widget_frontend_available():
            return
        from IPython.display import update_display

        data, metadata = self._repr_mimebundle_()
        for display_id in self._display_ids:
            update_display(  # type: ignore[no-untyped-call,unused-ignore]
                data, metadata=metadata, raw=True, display_id=display_id
            )

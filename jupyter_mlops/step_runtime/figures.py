# What a compiled step shows, kept as an artifact: inlined into every step like values.py.
#
# Standard library only, nothing of this package imported, no module-level code but imports, plain
# functions and literal constants (runtime_source.py pastes the functions a step uses), names
# starting with `_mlops_` (see values.py). A step whose cell may draw (it or the setup code
# imports matplotlib or seaborn, it calls display() or a .plot()/.hist() method) gets an output
# artifact for its figures. Matplotlib then uses its non-interactive Agg backend; each figure the
# cell draws is saved as PNG when `plt.show()` is called and, for those still open, when the cell
# ends, as the notebook's inline backend shows them; `display(x)` saves x's richest representation
# (a figure, PNG, SVG, HTML, Markdown) and prints its text to the log. The files are
# `figure-<n>.<ext>` in the order shown, listed in `figures.json`; sizes and counts are bounded.
import io
import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

_MLOPS_FIGURE_COUNT = 50  # figures kept per step; later ones are counted, not kept
_MLOPS_FIGURE_BYTES = 8388608  # 8 MiB: a larger single output is left out


def _mlops_rich_kinds() -> List[Tuple[str, str, str]]:
    """The representations display() keeps, richest first: (method, file extension, MIME type)."""
    return [
        ("_repr_png_", "png", "image/png"),
        ("_repr_svg_", "svg", "image/svg+xml"),
        ("_repr_html_", "html", "text/html"),
        ("_repr_markdown_", "md", "text/markdown"),
    ]


def _mlops_figures(
    args: Dict[str, Any], figures_arg: Optional[str], ns: Dict[str, Any]
) -> Optional[Dict[str, Any]]:
    """The step's figure collector (a dict: the artifact directory, what was kept, how many were
    dropped), started, when the compiler gave the step a figures output."""
    if not figures_arg or figures_arg not in args:
        return None
    state = {"path": args[figures_arg].path, "items": [], "dropped": 0}  # type: Dict[str, Any]
    os.makedirs(state["path"], exist_ok=True)
    _mlops_figures_start(state, ns)
    return state


def _mlops_figures_start(state: Dict[str, Any], ns: Dict[str, Any]) -> None:
    """Agg for matplotlib (no window, no kernel needed), plt.show() saving, display() in the cell."""
    os.environ["MPLBACKEND"] = "agg"
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        try:
            import matplotlib.pyplot as pyplot
        except Exception:  # no matplotlib here: display() still works
            pyplot = None
    if pyplot is not None:
        try:
            pyplot.switch_backend("agg")
        except Exception:
            pass

        def show(*args: Any, **kwargs: Any) -> None:
            _mlops_save_open_figures(state)

        pyplot.show = show  # type: ignore[attr-defined,unused-ignore]

    def display(*values: Any, **kwargs: Any) -> None:
        _mlops_display(state, values)

    ns["display"] = display


def _mlops_figure_write(state: Dict[str, Any], data: Any, ext: str, mime: str) -> None:
    size = len(data)
    if len(state["items"]) >= _MLOPS_FIGURE_COUNT or size > _MLOPS_FIGURE_BYTES or not size:
        state["dropped"] += 1
        return
    name = "figure-%d.%s" % (len(state["items"]) + 1, ext)
    if isinstance(data, bytes):
        with open(os.path.join(state["path"], name), "wb") as f:
            f.write(data)
    else:
        with open(os.path.join(state["path"], name), "w", encoding="utf-8") as f:
            f.write(data)
    state["items"].append({"file": name, "mime": mime})


def _mlops_save_figure(state: Dict[str, Any], figure: Any) -> None:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    _mlops_figure_write(state, buffer.getvalue(), "png", "image/png")


def _mlops_save_open_figures(state: Dict[str, Any]) -> None:
    """Save every open matplotlib figure, oldest first, then close them (as the inline backend)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    for number in list(pyplot.get_fignums()):
        try:
            _mlops_save_figure(state, pyplot.figure(number))
        except Exception as exc:
            print("jupyter-mlops: figure %d could not be saved: %s" % (number, exc))
    pyplot.close("all")


def _mlops_display(state: Dict[str, Any], values: Any) -> None:
    """The step's display(): each value's richest representation kept, its text in the log."""
    for value in values:
        if hasattr(value, "savefig") and type(value).__module__.startswith("matplotlib"):
            _mlops_save_figure(state, value)
            pyplot = sys.modules.get("matplotlib.pyplot")
            if pyplot is not None:
                pyplot.close(value)
            continue
        for method, ext, mime in _mlops_rich_kinds():
            render = getattr(value, method, None)
            if not callable(render):
                continue
            try:
                data = render()
            except Exception:
                data = None
            if isinstance(data, tuple):
                data = data[0]  # (data, metadata)
            if isinstance(data, (bytes, str)) and data:
                _mlops_figure_write(state, data, ext, mime)
                break
        print(repr(value))


def _mlops_figures_finish(state: Dict[str, Any]) -> Dict[str, Any]:
    """Save what is still open; list the files (figures.json); the artifact's metadata."""
    _mlops_save_open_figures(state)
    with open(os.path.join(state["path"], "figures.json"), "w", encoding="utf-8") as f:
        json.dump({"items": state["items"], "dropped": state["dropped"]}, f)
    return {"kind": "figures", "count": len(state["items"]), "dropped": state["dropped"]}

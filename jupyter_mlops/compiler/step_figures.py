# What a compiled step shows, kept as an artifact: inlined into every step like step_values.py.
#
# Standard library only, nothing of this package imported, no module-level code but imports and
# definitions, names starting with `_mlops_` (see step_values.py). A step whose cell may draw (it or
# the setup code imports matplotlib or seaborn, it calls display() or a .plot()/.hist() method) gets
# an output artifact for its figures. Matplotlib then uses its non-interactive Agg backend; each
# figure the cell draws is saved as PNG when `plt.show()` is called and, for those still open, when
# the cell ends, as the notebook's inline backend shows them; `display(x)` saves x's richest
# representation (a figure, PNG, SVG, HTML, Markdown) and prints its text to the log. The files are
# `figure-<n>.<ext>` in the order shown, listed in `figures.json`; sizes and counts are bounded.
import io
import json
import os
import sys
from typing import Any, Dict, List, Optional

_MLOPS_FIGURE_COUNT = 50  # figures kept per step; later ones are counted, not kept
_MLOPS_FIGURE_BYTES = 8 * 1024 * 1024  # a larger single output is left out
_MLOPS_RICH = (
    ("_repr_png_", "png", "image/png"),
    ("_repr_svg_", "svg", "image/svg+xml"),
    ("_repr_html_", "html", "text/html"),
    ("_repr_markdown_", "md", "text/markdown"),
)


class _MlopsFigures:
    """Collects, in order, what a step shows into the artifact directory `path`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: List[Dict[str, Any]] = []
        self.dropped = 0
        os.makedirs(path, exist_ok=True)

    def start(self, ns: Dict[str, Any]) -> None:
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
            keep = self

            def show(*args: Any, **kwargs: Any) -> None:
                keep.save_open_figures()

            pyplot.show = show  # type: ignore[attr-defined,unused-ignore]
        ns["display"] = self.display

    def _write(self, data: Any, ext: str, mime: str) -> None:
        size = len(data)
        if len(self.items) >= _MLOPS_FIGURE_COUNT or size > _MLOPS_FIGURE_BYTES or not size:
            self.dropped += 1
            return
        name = "figure-%d.%s" % (len(self.items) + 1, ext)
        if isinstance(data, bytes):
            with open(os.path.join(self.path, name), "wb") as f:
                f.write(data)
        else:
            with open(os.path.join(self.path, name), "w", encoding="utf-8") as f:
                f.write(data)
        self.items.append({"file": name, "mime": mime})

    def _save_figure(self, figure: Any) -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        self._write(buffer.getvalue(), "png", "image/png")

    def save_open_figures(self) -> None:
        """Save every open matplotlib figure, oldest first, then close them (as the inline backend)."""
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None:
            return
        for number in list(pyplot.get_fignums()):
            try:
                self._save_figure(pyplot.figure(number))
            except Exception as exc:
                print("jupyter-mlops: figure %d could not be saved: %s" % (number, exc))
        pyplot.close("all")

    def display(self, *values: Any, **kwargs: Any) -> None:
        """The step's display(): each value's richest representation kept, its text in the log."""
        for value in values:
            if hasattr(value, "savefig") and type(value).__module__.startswith("matplotlib"):
                self._save_figure(value)
                pyplot = sys.modules.get("matplotlib.pyplot")
                if pyplot is not None:
                    pyplot.close(value)
                continue
            for method, ext, mime in _MLOPS_RICH:
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
                    self._write(data, ext, mime)
                    break
            print(repr(value))

    def finish(self) -> Dict[str, Any]:
        """Save what is still open; list the files (figures.json); the artifact's metadata."""
        self.save_open_figures()
        with open(os.path.join(self.path, "figures.json"), "w", encoding="utf-8") as f:
            json.dump({"items": self.items, "dropped": self.dropped}, f)
        return {"kind": "figures", "count": len(self.items), "dropped": self.dropped}


def _mlops_figures(
    args: Dict[str, Any], figures_arg: Optional[str], ns: Dict[str, Any]
) -> Optional[_MlopsFigures]:
    """The step's figure collector, started, when the compiler gave the step a figures output."""
    if not figures_arg or figures_arg not in args:
        return None
    figures = _MlopsFigures(args[figures_arg].path)
    figures.start(ns)
    return figures

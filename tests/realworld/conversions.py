"""How a user converts each real-world notebook: a magic line on the cells that become pipeline pieces.

Each plain notebook in `notebooks/` is converted the obvious way, as its README says: `%load_ext
jupyter_mlops` first, the imports and helper cells become `%%pipeline setup`, a parameters cell becomes
`%%pipeline params`, and each natural step of the work becomes `%%component NAME`. Cells left out of the
map (a quick look with `describe()`, a print of shapes) stay plain cells that run in the kernel only.

Cells are named by their notebook cell id (nbformat 4.5), so the map reads like the notebook.
`python -m tests.realworld.conversions OUTDIR` copies the folder there with the notebooks converted, to
open them in Jupyter or run them with `jupyter-mlops run OUTDIR/NAME.ipynb --wait`.
"""

from __future__ import annotations

import copy
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
LOAD_EXT = "%load_ext jupyter_mlops"


@dataclass(frozen=True)
class Conversion:
    notebook: str  # file name under notebooks/
    magics: dict[str, str]  # cell id -> the magic line put on top of that cell
    writes: tuple[str, ...] = ()  # files the notebook writes next to itself (relative paths)
    # (after cell id, source): cells a user adds while converting, e.g. a look at the DAG
    added: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    report_step: str = "report"  # the step whose output ends with the notebook's key values as JSON

    @property
    def name(self) -> str:
        return Path(self.notebook).stem


CONVERSIONS: tuple[Conversion, ...] = (
    Conversion(
        "titanic_survival.ipynb",
        {
            "imports": "%%pipeline setup --packages numpy,pandas,scikit-learn",
            "load": "%%component load",
            "relatives": "%%component relatives",
            "drop-id": "%%component drop_id",
            "deck": "%%component deck",
            "age": "%%component ages",
            "embarked": "%%component embarked",
            "titles": "%%component titles",
            "bands": "%%component bands",
            "split": "%%component split",
            "forest": "%%component forest",
            "logreg-make": "%%component logreg",
            "logreg-fit": "%%component fit",
            "logreg-score": "%%component score",
            "submission": "%%component report",
        },
        writes=("submission.csv",),
    ),
    Conversion(
        "sensor_anomalies.ipynb",
        {
            "imports": "%%pipeline setup",
            "parameters": "%%pipeline params",
            "functions": "%%pipeline setup",
            "read": "%%component read",
            "clean": "%%component clean",
            "score": "%%component score",
            "flag": "%%component flag",
            "report": "%%component report",
        },
    ),
    Conversion(
        "numpy_random_walks.ipynb",
        {
            "imports": "%%pipeline setup",
            "seed": "%%component seed",
            "arange": "%%component arange",
            "shuffle": "%%component shuffle",
            "arith": "%%component arith",
            "walk": "%%component walk",
            "excursions": "%%component excursions",
            "sorted": "%%component order",
            "matrix": "%%component matrix",
            "eig": "%%component eig",
            "report": "%%component report",
        },
        added=(("eig", "%pipeline show   # the steps and what flows between them"),),
    ),
    Conversion(
        "sales_by_region.ipynb",
        {
            "imports": "%%pipeline setup",
            "load": "%%component load",
            "merge": "%%component merge",
            "index": "%%component index",
            "groupby": "%%component regions",
            "pivot": "%%component pivot",
            "monthly": "%%component monthly",
            "report": "%%component report",
        },
        writes=("monthly_revenue.csv",),
    ),
    Conversion(
        "linear_fit_plots.ipynb",
        {
            "imports": "%%pipeline setup --packages matplotlib,numpy,pandas",
            "data": "%%component data",
            "fit": "%%component fit",
            "plot-fit": "%%component plot_fit",
            "plot-residuals": "%%component plot_residuals",
            "report": "%%component report",
        },
        writes=("figures/fit.png", "figures/residuals.png"),
    ),
    Conversion(
        "feature_helpers.ipynb",
        {
            "imports": "%%pipeline setup",
            "helpers": "%%pipeline setup",
            "data": "%%component data",
            "ratio": "%%component ratio",
            "info": "%%component info",
            "settings": "%%component settings",
            "scale": "%%component scale",
            "summary": "%%component summary",
            "report": "%%component report",
        },
    ),
    Conversion(
        "inline_helpers.ipynb",
        {
            "imports": "%%pipeline setup",
            "load": "%%component load",
            "clean-train": "%%component clean_train",
            "clean-test": "%%component clean_test",
            "model": "%%component model",
            "score": "%%component score",
            "predict": "%%component predict",
            "report": "%%component report",
        },
    ),
    Conversion(
        "passenger_records.ipynb",
        {
            "imports": "%%pipeline setup",
            "load": "%%component load",
            "records": "%%component records",
            "bands": "%%component bands",
            "summaries": "%%component summaries",
            "by-class": "%%component by_class",
            "richest": "%%component richest",
            "report": "%%component report",
        },
    ),
)

BY_NAME = {c.name: c for c in CONVERSIONS}


def read_plain(conversion: Conversion) -> nbformat.NotebookNode:
    return nbformat.read(str(NOTEBOOKS / conversion.notebook), as_version=4)


def convert(conversion: Conversion, plain: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The converted notebook: the plain one with the magic lines and cells a user adds."""
    nb = copy.deepcopy(plain)
    ids = {cell.get("id") for cell in nb.cells}
    missing = sorted(set(conversion.magics) - ids) + sorted({a for a, _ in conversion.added} - ids)
    if missing:
        raise KeyError(f"{conversion.notebook} has no cell with id {', '.join(missing)}")
    cells = [nbformat.v4.new_code_cell(LOAD_EXT, id="load-ext")]
    for cell in nb.cells:
        magic = conversion.magics.get(cell.get("id", ""))
        if magic is not None:
            cell.source = f"{magic}\n{cell.source}"
        cells.append(cell)
        for n, (after, source) in enumerate(conversion.added):
            if after == cell.get("id"):
                cells.append(nbformat.v4.new_code_cell(source, id=f"added-{n}"))
    nb.cells = cells
    nbformat.validate(nb)
    return nb


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.realworld.conversions OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    shutil.copytree(NOTEBOOKS, out, dirs_exist_ok=True)  # the data/ folder comes along
    for conversion in CONVERSIONS:
        nbformat.write(convert(conversion, read_plain(conversion)), str(out / conversion.notebook))
        print(out / conversion.notebook)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

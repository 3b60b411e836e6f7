"""Issue 9, item 2: several setup and params cells accumulate in notebook order; re-running a cell
replaces that cell only; a `%%component` cell re-run under a new name replaces its old step.

Cells are told apart by a key: the notebook cell id (JupyterLab, Notebook 7, nbformat 4.5 files), else
the cell's position in the file (CLI) or its text (a kernel that gets no ids).
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
import yaml

from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.errors import CellError
from jupyter_mlops.notebook.reader import read_notebook
from jupyter_mlops.notebook.workspace import Workspace

from .conftest import run_cell
from .notebooks import write_notebook

IMPORTS = "import random\nimport math\n"
HELPERS = "def noisy(v):\n    return v + random.random() * 0\n\n\ndef root(v):\n    return math.sqrt(v)\n"


def test_two_setup_cells_accumulate_in_order_and_a_helper_finds_the_first_cells_import():
    w = Workspace("p")
    w.define_setup("--packages numpy", IMPORTS, cell="id:imports")
    w.define_setup("--packages pandas,numpy", HELPERS, cell="id:helpers")
    w.define_component("a", "x = root(noisy(4.0))\n", cell="id:a")
    pipeline = w.active
    assert pipeline.setup == IMPORTS + "\n" + HELPERS
    assert pipeline.setup_options.packages == ("numpy", "pandas")
    plan = plan_pipeline(pipeline)
    # The plan's first setup line stands for the magic line (imports setup needs from steps go there).
    assert plan.setup == "\n" + pipeline.setup
    # The step runs the whole setup: run the compiled step function's setup as kfp would.
    namespace: dict[str, object] = {}
    exec(plan.setup, namespace)
    assert namespace["root"](namespace["noisy"](4.0)) == 2.0  # type: ignore[operator]


def test_rerunning_one_setup_cell_replaces_that_cell_only_and_keeps_its_place():
    w = Workspace("p")
    w.define_setup("", IMPORTS, cell="id:imports")
    w.define_setup("", HELPERS, cell="id:helpers")
    w.define_setup("", "import random\nimport math\nimport json\n", cell="id:imports")
    assert w.active.setup == "import random\nimport math\nimport json\n\n" + HELPERS


def test_params_cells_accumulate_and_a_rerun_replaces_its_own_parameters():
    w = Workspace("p")
    w.define_params("lr = 0.1\nepochs = 3\n", cell="id:first")
    w.define_params("label = 'x'\n", cell="id:second")
    assert {n: p.default for n, p in w.active.params.items()} == {"lr": 0.1, "epochs": 3, "label": "x"}
    w.define_params("lr = 0.5\n", cell="id:first")  # epochs removed from that cell
    assert {n: p.default for n, p in w.active.params.items()} == {"lr": 0.5, "label": "x"}
    assert w.active.params_source == "lr = 0.5\n\nlabel = 'x'\n"


def test_a_params_error_still_names_the_cell_and_keeps_the_earlier_definition():
    w = Workspace("p")
    w.define_params("lr = 0.1\n", cell="id:first")
    with pytest.raises(CellError, match="params"):
        w.define_params("lr = compute()\n", cell="id:first")
    assert w.active.params["lr"].default == 0.1


def test_a_component_cell_renamed_replaces_its_old_step_in_its_place():
    w = Workspace("p")
    w.define_component("load", "x = 1\n", cell="id:c1")
    w.define_component("train", "y = x + 1\n", cell="id:c2")
    w.define_component("prepare", "x = 2\n", cell="id:c1")
    assert list(w.active.steps) == ["prepare", "train"]
    assert plan_pipeline(w.active).step("train").inputs["x"][0] == "prepare"


def test_a_renamed_cell_taking_another_cells_name_replaces_that_step_and_drops_its_old_one():
    w = Workspace("p")
    w.define_component("a", "x = 1\n", cell="id:c1")
    w.define_component("b", "y = 2\n", cell="id:c2")
    w.define_component("b", "y = 3\n", cell="id:c1")  # c1 now defines b
    assert list(w.active.steps) == ["b"] and w.active.steps["b"].source == "y = 3\n"
    w.define_component("c", "z = 4\n", cell="id:c2")  # c2 renamed: c1's b stays
    assert list(w.active.steps) == ["b", "c"]


def test_without_cell_keys_a_setup_cell_replaces_the_setup_as_before():
    w = Workspace("p")
    w.define_setup("", IMPORTS)
    w.define_setup("", HELPERS)
    assert w.active.setup == HELPERS


# -- the kernel (IPython shell, no cell ids) --------------------------------------------------------


def _magics(ip):
    return ip.magics_manager.registry["PipelineMagics"]


def test_in_a_kernel_without_ids_setup_cells_accumulate_and_an_unchanged_rerun_replaces_itself(ip):
    run_cell(ip, "%%pipeline setup\n" + IMPORTS)
    run_cell(ip, "%%pipeline setup\n" + HELPERS)
    run_cell(ip, "%%pipeline setup\n" + IMPORTS)  # the same cell again: no duplicate
    assert _magics(ip).workspace.active.setup == IMPORTS + "\n" + HELPERS
    run_cell(ip, "%%component a\nx = root(noisy(9.0))\n")
    assert ip.user_ns["x"] == 3.0


# -- the CLI ---------------------------------------------------------------------------------------

NOTEBOOK = [
    "%load_ext jupyter_mlops",
    "%%pipeline setup --packages numpy\n" + IMPORTS,
    "%%pipeline params\nlr = 0.1\n",
    "%%pipeline setup\n" + HELPERS,
    "%%pipeline params\nlabel = 'run'\n",
    "%%component a\nx = root(noisy(lr * 40))\n",
    "%%component b\ny = f'{label}: {x:.1f}'\n",
]


def test_the_cli_reads_every_setup_and_params_cell_in_notebook_order(tmp_path):
    pipeline = read_notebook(write_notebook(tmp_path / "many.ipynb", NOTEBOOK)).active
    assert pipeline.setup == IMPORTS + "\n" + HELPERS
    assert list(pipeline.params) == ["lr", "label"]
    assert pipeline.setup_options.packages == ("numpy",)


def test_kernel_and_cli_compile_the_same_bytes_with_two_setup_and_two_params_cells(ip, tmp_path):
    path = write_notebook(tmp_path / "many.ipynb", NOTEBOOK)
    run_cell(ip, "%pipeline new many")
    for source in NOTEBOOK:
        run_cell(ip, source)
    run_cell(ip, f"%pipeline compile {tmp_path / 'kernel.yaml'}")
    subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "compile", str(path), "-o", str(tmp_path / "cli.yaml")],
        check=True,
        capture_output=True,
    )
    kernel, cli = (tmp_path / "kernel.yaml").read_bytes(), (tmp_path / "cli.yaml").read_bytes()
    assert kernel == cli
    spec = next(yaml.safe_load_all(cli))
    assert set(spec["root"]["inputDefinitions"]["parameters"]) == {"lr", "label"}


def test_in_a_kernel_without_ids_a_setup_cell_that_failed_is_not_kept_once_fixed(ip):
    from IPython.core.error import UsageError

    with pytest.raises(ModuleNotFoundError):
        run_cell(ip, "%%pipeline setup\nimport mathh\n")  # a typo: fails in the kernel
    with pytest.raises(UsageError, match="invalid Python"):
        run_cell(ip, "%%pipeline setup\ndef f(:\n")
    run_cell(ip, "%%pipeline setup\nimport math\n")  # the fix: a different text, so a new cell
    assert _magics(ip).workspace.active.setup == "import math\n"


def test_with_ids_a_failed_setup_cell_stays_until_its_cell_is_fixed_as_the_cli_would_read_it():
    w = Workspace("p")
    w.define_setup("", "import mathh\n", cell="id:s")
    w.define_setup("", "import math\n", cell="id:s")
    assert w.active.setup == "import math\n"


def test_the_issues_repro_runs_a_helper_from_one_setup_cell_using_an_import_from_another(
    ip, tmp_path, monkeypatch
):
    """Imports first, helpers further down: the run no longer fails with a NameError in setup code."""
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    run_cell(ip, "%%pipeline setup\nimport random\n")
    run_cell(ip, "%%pipeline params\nseed = 3\n")
    run_cell(
        ip,
        "%%pipeline setup\ndef draw(n):\n    rng = random.Random(seed)\n"
        "    return [rng.random() for _ in range(n)]\n",
    )
    run_cell(ip, "%%pipeline params\nn = 4\n")
    run_cell(ip, "%%component sample --define-only\nvalues = draw(n)\nlog_metric('total', sum(values))\n")
    run = run_cell(ip, "%pipeline run --wait")
    assert run.state.value == "SUCCEEDED", run
    rng = random.Random(3)
    expected = sum(rng.random() for _ in range(4))
    assert abs(run.metrics["sample.total"] - expected) < 1e-9

"""Issue 9, item 7: display-only IPython lines in a step or setup cell are left out of the step, and
`%pipeline show` says so; the cell still runs them in the kernel."""

from __future__ import annotations

import yaml

from jupyter_mlops.compiler import plan_pipeline

from .conftest import run_cell


def test_show_notes_each_display_only_line_and_the_compiled_steps_hold_none(ip, tmp_path):
    run_cell(ip, "%%pipeline setup\n%load_ext autoreload\n%autoreload 2\nimport math\n")
    run_cell(ip, "%%component area\n%precision 3\nr = 2.0\na = math.pi * r**2\n")
    assert ip.user_ns["a"] > 12  # it ran in the kernel, magics included
    shown = repr(run_cell(ip, "%pipeline show"))
    assert "notes:" in shown
    assert "%%pipeline setup, line 2: `%load_ext autoreload` only loads an IPython extension" in shown
    assert "%%pipeline setup, line 3: `%autoreload 2` only makes the kernel reload edited modules" in shown
    assert (
        "area, line 2: `%precision 3` only sets how the kernel displays floats: left out of the step" in shown
    )
    run_cell(ip, "%pipeline compile out.yaml")
    spec = next(yaml.safe_load_all((tmp_path / "out.yaml").read_text()))
    code = "\n".join(
        " ".join(e["container"]["command"]) for e in spec["deploymentSpec"]["executors"].values()
    )
    assert "get_ipython" not in code and "autoreload" not in code and "math.pi" in code


def test_notes_of_several_setup_cells_name_the_cell_and_its_line(ip):
    run_cell(ip, "%%pipeline setup\nimport math\n")
    run_cell(ip, "%%pipeline setup\n\nimport json\n%matplotlib inline\n")
    (note,) = _magics_plan(ip).notes
    assert str(note) == (
        "%%pipeline setup cell 2, line 4: `%matplotlib inline` only sets how the kernel shows plots: "
        "left out of the step"
    )


def _magics_plan(ip):
    run_cell(ip, "%%component a --define-only\nx = 1\n")
    return plan_pipeline(ip.magics_manager.registry["PipelineMagics"].workspace.active)

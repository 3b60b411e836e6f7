"""The magics in a real IPython shell: cells still run, re-running redefines, loading is cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from jupyter_mlops.compiler import plan_pipeline

from .conftest import run_cell


def _magics(ip):
    return ip.magics_manager.registry["PipelineMagics"]


def test_component_cell_runs_in_the_kernel_and_defines_a_step(ip):
    run_cell(ip, "%%component load\nvalues = [1, 2, 3]\n")
    assert ip.user_ns["values"] == [1, 2, 3]
    pipeline = _magics(ip).workspace.active
    assert list(pipeline.steps) == ["load"]


def test_define_only_does_not_run(ip):
    ip.user_ns.pop("never", None)
    run_cell(ip, "%%component later --define-only\nnever = 1\n")
    assert "never" not in ip.user_ns
    assert "later" in _magics(ip).workspace.active.steps


def test_rerunning_a_cell_redefines_its_step_in_place(ip):
    run_cell(ip, "%%component a\nx = 1\n")
    run_cell(ip, "%%component b\ny = x + 1\n")
    run_cell(ip, "%%component a --cpu 2\nx = 10\n")
    pipeline = _magics(ip).workspace.active
    assert list(pipeline.steps) == ["a", "b"]
    assert pipeline.steps["a"].source == "x = 10\n" and pipeline.steps["a"].options.cpu == "2"
    assert ip.user_ns["x"] == 10


def test_setup_and_params_run_in_the_kernel_too(ip):
    run_cell(ip, "%%pipeline setup\ndef twice(v):\n    return 2 * v\n")
    run_cell(ip, "%%pipeline params\nrate = 0.5\nname = 'n'\n")
    assert ip.user_ns["twice"](2) == 4 and ip.user_ns["rate"] == 0.5
    run_cell(ip, "%%component a\nz = twice(rate)\n")
    plan = plan_pipeline(_magics(ip).workspace.active)
    assert plan.step("a").params == ("rate",)


def test_new_use_and_compile_default_path(ip, tmp_path):
    run_cell(ip, "%pipeline new first")
    run_cell(ip, "%%component a\nx = 1\n")
    run_cell(ip, "%pipeline new second")
    run_cell(ip, "%%component b\ny = 2\n")
    run_cell(ip, "%pipeline use first")
    run_cell(ip, "%pipeline compile")
    spec = next(yaml.safe_load_all((tmp_path / "first.yaml").read_text()))
    assert list(spec["root"]["dag"]["tasks"]) == ["a"]
    run_cell(ip, "%pipeline compile --pipeline second out.yaml")
    assert list(next(yaml.safe_load_all((tmp_path / "out.yaml").read_text()))["root"]["dag"]["tasks"]) == [
        "b"
    ]


def test_show_prints_steps_and_data(ip):
    run_cell(ip, "%%component a\nx = 1\n")
    run_cell(ip, "%%component b\ny = x * 2\ny\n")
    display = run_cell(ip, "%pipeline show")
    text = repr(display)
    assert "a" in text and "x <- a" in text and "result (artifact)" in text
    bundle = display._repr_mimebundle_()
    assert "text/plain" in bundle


def test_load_ext_does_not_import_kfp():
    code = (
        "import sys\n"
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "ip.run_line_magic('load_ext', 'jupyter_mlops')\n"
        "ip.run_cell('%%component a\\nx = 1\\n')\n"
        "heavy = ('kfp', 'kubernetes', 'anywidget', 'tensorboard', 'yaml')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_log_metric_and_logdir_exist_in_the_kernel(ip):
    assert callable(ip.user_ns["log_metric"]) and callable(ip.user_ns["logdir"])


def test_run_wait_in_terminal_ipython_prints_the_outcome_not_the_start(ip, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    run_cell(ip, "%%component a --define-only\nx = 20\n")
    run_cell(ip, "%%component b --define-only\ny = x + 1\nlog_metric('y', y)\n")
    capsys.readouterr()
    run = run_cell(ip, "%pipeline run --wait")
    printed = capsys.readouterr().out
    assert run.state.value == "SUCCEEDED"
    # Printed once, after the wait: the final state of every step and the metric, no PENDING snapshot.
    assert "SUCCEEDED, 2/2 steps done" in printed and "PENDING" not in printed, printed
    assert "metric b.y = 21" in printed


def test_a_backend_that_cannot_be_made_is_refused_and_the_default_stays(ip, tmp_path, monkeypatch, capsys):
    from IPython.core.error import UsageError  # what the notebook shows: a short message, no traceback

    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    with pytest.raises(UsageError, match=r"KFP server at http://127.0.0.1:9 is unreachable"):
        run_cell(ip, "%pipeline backend kfp --host http://127.0.0.1:9")
    capsys.readouterr()
    run_cell(ip, "%pipeline backend")
    assert capsys.readouterr().out.startswith("backend: local ")


def test_status_in_a_new_session_shows_the_newest_run_and_cancel_still_needs_an_id(
    ip, tmp_path, monkeypatch, capsys
):
    from IPython.core.error import UsageError

    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    magics = _magics(ip)
    monkeypatch.setattr(magics, "last_run_id", None)
    with pytest.raises(UsageError, match="no runs yet: start one with %pipeline run"):
        run_cell(ip, "%pipeline status")
    run_cell(ip, "%%component only --define-only\nanswer = 42\n")
    run = run_cell(ip, "%pipeline run --wait --name kept")
    magics.last_run_id = None  # as after a kernel restart: the run is in the store, not in the session
    capsys.readouterr()
    shown = run_cell(ip, "%pipeline status")
    assert f"Run kept ({run.id}): SUCCEEDED" in repr(shown) + capsys.readouterr().out
    with pytest.raises(UsageError, match="no run yet in this session"):
        run_cell(ip, "%pipeline cancel")


def test_every_magic_that_takes_a_run_takes_an_id_a_prefix_a_name_or_a_variable(
    ip, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    run_cell(ip, "%%component make --define-only\nvalue = 41\nprint('made it')\n")
    run_cell(ip, "%%component use --define-only\nanswer = value + 1\n")
    run_cell(ip, "r1 = %pipeline run --wait --name by-name")  # as a notebook keeps a run
    first = ip.user_ns["r1"]
    other = run_cell(ip, "%pipeline run --wait --name other")
    assert first.state.value == other.state.value == "SUCCEEDED"
    monkeypatch.setitem(ip.user_ns, "info_var", first.info)  # a RunInfo too
    for ref in (first.id, first.id[:5], "by-name", "r1", "info_var"):
        capsys.readouterr()
        shown = run_cell(ip, f"%pipeline status {ref}")
        assert f"Run by-name ({first.id}): SUCCEEDED" in repr(shown), ref
        run_cell(ip, f"%pipeline logs {ref} make")
        assert "made it" in capsys.readouterr().out, ref
        run_cell(ip, f"%pipeline cancel {ref}")
        assert f"Run {first.id} is SUCCEEDED." in capsys.readouterr().out, ref
        ip.user_ns.pop("value", None)
        run_cell(ip, f"%pipeline load {ref} make")
        assert ip.user_ns["value"] == 41, ref
        compared = run_cell(ip, f"%pipeline compare {ref} other")
        assert [r["id"] for r in compared.runs] == [first.id, other.id], ref


def test_use_of_a_pipeline_that_does_not_exist_yet_says_it_starts_one(ip, capsys):
    """`%pipeline use trian` (a typo for `train`) starts a new, empty pipeline, as it must for a
    notebook run top to bottom in a fresh kernel; before, it said only "Using pipeline 'trian'." and the
    next cells went to it unnoticed."""
    run_cell(ip, "%pipeline new train")
    run_cell(ip, "%%component a\nx = 1\n")
    capsys.readouterr()
    run_cell(ip, "%pipeline use trian")
    said = capsys.readouterr().out
    assert "'trian', which has no steps yet (pipelines with steps: train)" in said, said
    run_cell(ip, "%pipeline use train")
    assert capsys.readouterr().out.strip() == "Using pipeline 'train'."


def test_a_missing_argument_is_named_without_the_optional_ones(ip):
    """`%pipeline load` said "the following arguments are required: run, step, names", though NAMES
    may be left out (`load RUN STEP [NAMES]`)."""
    from IPython.core.error import UsageError

    with pytest.raises(UsageError) as caught:
        run_cell(ip, "%pipeline load")
    assert str(caught.value) == "%pipeline load: the following arguments are required: run, step"
    with pytest.raises(UsageError) as caught:
        run_cell(ip, "%pipeline schedule")
    assert "names" not in str(caught.value) and "assignments" not in str(caught.value), caught.value

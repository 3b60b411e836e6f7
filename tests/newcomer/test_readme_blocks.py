"""Every code block of the README is run by a test, so the README cannot drift from what works.

The tour's cells run in a kernel (tests/kernel/test_readme_tour.py), the two commands at the top on a
fresh copy of the checkout (test_fresh_machine.py), the Colab cell in a Colab-like kernel
(test_colab.py), the Results, kfp and TensorBoard reference blocks in a kernel
(test_readme_reference_blocks.py, kfp against the stand-in server), and the shell commands of the tour
here, on the tour saved as demo.ipynb, with RUN and STEP replaced by the run the block's own `run` made
and one of its steps. A block that no test runs fails test_every_readme_block_is_run_by_a_test.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat

from tests.kernel.kernel_notebooks import execute_notebook, notebook
from tests.kernel.test_readme_tour import tour_cells
from tests.newcomer.readme_blocks import README, ROOT, Block, commands, readme_blocks

REFERENCE = "tests/newcomer/test_readme_reference_blocks.py"


def _runner(block: Block) -> str | None:
    """The test that runs this block, or None."""
    text = block.text
    if block.lang == "bash" and commands(block) == ["bash scripts/demo.sh", "bash scripts/test.sh"]:
        return "tests/newcomer/test_fresh_machine.py"
    if block.section == "A 30-second tour" and block.lang == "python":
        return "tests/kernel/test_readme_tour.py"
    if block.section == "A 30-second tour" and block.lang == "bash":
        return "tests/newcomer/test_readme_blocks.py::test_the_tours_shell_commands_run_on_its_notebook"
    if block.lang == "python" and text.startswith("%pip install jupyter-mlops"):
        return "tests/newcomer/test_colab.py"
    if block.section.startswith("TensorBoard inline") and "mlops.log_embedding(" in text:
        return f"{REFERENCE}::test_the_tensorboard_block_writes_the_projectors_files_and_says_how_to_see_them"
    if block.section == "Sweeps and schedules" and text.startswith("%pipeline sweep"):
        return "tests/sweeps/test_readme_sweeps_block.py"
    if block.lang == "" and text.startswith("jupyter_mlops/\n"):
        return "tests/newcomer/test_readme_blocks.py::test_the_layout_drawing_is_the_packages_layout"
    if block.section == "Results, not file paths" and block.lang == "python":
        return f"{REFERENCE}::test_the_results_block_runs_on_a_run_with_a_failed_step"
    if block.section == "On a Kubeflow Pipelines server (`kfp` backend)" and block.lang == "python":
        return f"{REFERENCE}::test_the_kfp_block_runs_against_the_standin_server"
    return None


def unrun(blocks: list[Block]) -> list[str]:
    """Where each block that no test runs is."""
    return [b.where() for b in blocks if _runner(b) is None]


def test_every_readme_block_is_run_by_a_test() -> None:
    blocks = readme_blocks()
    missing = unrun(blocks)
    assert not missing, (
        "README blocks that no test runs (write a test that runs it and name it in _runner, "
        "tests/newcomer/test_readme_blocks.py):\n" + "\n".join(missing)
    )
    assert len(blocks) >= 10
    runners = {str(_runner(b)).split("::")[0].split(" ")[0] for b in blocks}
    assert all((ROOT / r).is_file() for r in runners), sorted(r for r in runners if not (ROOT / r).is_file())


def test_a_new_block_that_no_test_runs_fails_the_check() -> None:
    readme = README.read_text(encoding="utf-8")
    text = readme + "\n## Something new\n\n```python\n%pipeline frobnicate\n```\n"
    line = readme.count("\n") + 4  # the new block's opening fence
    assert unrun(readme_blocks(text)) == [f"README.md line {line} (Something new, ```python)"]


def _cli() -> list[str]:
    """`jupyter-mlops` of this checkout (the console script itself runs in test_fresh_machine.py)."""
    return [sys.executable, "-m", "jupyter_mlops.cli"]


def test_the_layout_drawing_is_the_packages_layout() -> None:
    """The Development section's drawing names every folder of the package, and only folders and
    modules that exist."""
    (block,) = [b for b in readme_blocks() if b.lang == "" and b.text.startswith("jupyter_mlops/\n")]
    package = ROOT / "jupyter_mlops"
    names = [re.split(r"\s{3,}", line.strip())[0] for line in block.text.splitlines()[1:] if line.strip()]
    named = {n for col in names for n in re.findall(r"\b([a-z_]+)/", col)}
    modules = {m for col in names for m in re.findall(r"\b([a-z_]+\.py)\b", col)}
    folders = {p.parent.name for p in package.glob("*/__init__.py")}
    assert named == folders, f"drawn: {sorted(named)}; in the package: {sorted(folders)}"
    assert all((package / m).is_file() for m in modules), sorted(
        m for m in modules if not (package / m).is_file()
    )


def test_the_tours_shell_commands_run_on_its_notebook(tmp_path: Path) -> None:
    (block,) = [
        b for b in readme_blocks() if _runner(b) and b.section == "A 30-second tour" and b.lang == "bash"
    ]
    lines = commands(block)
    cells = tour_cells()
    nbformat.write(notebook(cells), tmp_path / "demo.ipynb")
    env = {**os.environ, "JUPYTER_MLOPS_HOME": str(tmp_path / "home")}
    # The same notebook in a kernel that knows its name (as JupyterLab's does): %pipeline compile writes
    # demo.yaml there, which the block says the CLI reproduces byte for byte.
    kernel_dir = tmp_path / "kernel"
    kernel_dir.mkdir()
    execute_notebook(
        notebook([*cells[:-1], "%pipeline compile"]),
        kernel_dir,
        env={
            "JUPYTER_MLOPS_HOME": env["JUPYTER_MLOPS_HOME"],
            "JPY_SESSION_NAME": str(kernel_dir / "demo.ipynb"),
        },
    )

    outputs: dict[str, str] = {}
    run_id = step = None
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "jupyter-mlops", line
        if "RUN" in words:
            assert run_id, f"{line!r} before any run"
            words = [run_id if w == "RUN" else step if w == "STEP" else w for w in words]
        proc = subprocess.run(
            [*_cli(), *words[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"README line `{line}` failed ({proc.returncode}):\n{out}"
        outputs[words[1]] = out
        if words[1] == "run":
            found = re.search(r"^Run (\w+) \(", out, re.M)
            assert found, out
            run_id, step = found.group(1), "train"

    assert (tmp_path / "demo.yaml").read_bytes() == (kernel_dir / "demo.yaml").read_bytes()
    assert "SUCCEEDED, 2/2 steps done" in outputs["run"] and "parameters: lr=0.1" in outputs["run"]
    assert run_id in outputs["runs"] and "SUCCEEDED" in outputs["status"]
    assert "train_accuracy" in outputs["status"]
    # The step's own output: kfp's executor lines are left out unless --executor-lines (issue 11).
    assert "Looking for component" not in outputs["logs"]
    assert f"Run {run_id} is SUCCEEDED." in outputs["cancel"]  # a finished run stays as it ended

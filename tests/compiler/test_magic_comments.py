"""Issue 9, item 9: every magic line accepts a trailing `# comment`, as tutorials write them.

Driven through a real IPython shell: IPython hands the magic its whole line, comment included.
"""

from __future__ import annotations

import pytest

from jupyter_mlops.errors import UsageError
from jupyter_mlops.notebook.options import split_magic_line

from .conftest import run_cell


def _magics(ip):
    return ip.magics_manager.registry["PipelineMagics"]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("show   # a comment", ["show"]),
        ("show#not a comment", ["show#not", "a", "comment"]),  # inside a word `#` is a character
        ('run note="a#b"', ["run", "note=a#b"]),
        ("run note='x # y'  # the note has a hash", ["run", "note=x # y"]),
        ("run note=a#b", ["run", "note=a#b"]),
        (r"run note=\#b # c", ["run", "note=#b"]),
        ("run # note='unclosed", ["run"]),
        ("# only a comment", []),
    ],
)
def test_split_magic_line_drops_a_trailing_comment_only(line, words):
    assert split_magic_line(line, "%pipeline") == words


def test_an_unclosed_quote_is_still_an_error_naming_the_line():
    with pytest.raises(UsageError, match="%pipeline: cannot read"):
        split_magic_line("run note='open", "%pipeline")


def test_cell_magic_lines_accept_a_comment(ip):
    run_cell(ip, "%%pipeline setup --packages numpy   # imports every step needs\nimport math\n")
    run_cell(ip, "%%pipeline params   # defaults\nrate = 0.5\n")
    run_cell(ip, "%%component train --cpu 2   # the slow one\ny = math.sqrt(rate)\n")
    pipeline = _magics(ip).workspace.active
    assert pipeline.setup_options.packages == ("numpy",)
    assert list(pipeline.steps) == ["train"] and pipeline.steps["train"].options.cpu == "2"


def test_every_line_subcommand_accepts_a_trailing_comment(ip, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    run_cell(ip, "%pipeline new demo   # a fresh pipeline")
    run_cell(ip, "%pipeline use demo   # select it")
    assert _magics(ip).workspace.active.name == "demo"
    run_cell(ip, "%%pipeline params\nnote = 'n'\nlr = 0.5\n")
    run_cell(ip, "%%component a --define-only\nx = lr * 2\nlog_metric('x', x)\n")
    assert "Pipeline 'demo': 1 steps" in repr(run_cell(ip, "%pipeline show   # the DAG, inputs and outputs"))
    assert "Pipeline 'demo': 1 steps" in repr(run_cell(ip, "%pipeline show demo  # by name"))
    run_cell(ip, "%pipeline compile out.yaml   # the KFP IR")
    assert (tmp_path / "out.yaml").exists()
    run_cell(ip, 'run = %pipeline run --wait lr=0.1 note="a#b"   # runs locally, waits')
    run = ip.user_ns["run"]
    assert run.state.value == "SUCCEEDED" and run.metrics == {"a.x": 0.2}
    assert run.info.parameters == {"note": "a#b", "lr": 0.1}
    for line in (
        "%pipeline runs   # every run",
        "%pipeline runs --limit 5  # the newest",
        f"%pipeline status {run.id}   # one run",
        "%pipeline status   # the last run",
        f"%pipeline logs {run.id} a   # a step's log",
        "%pipeline experiments   # experiments",
        f"%pipeline compare {run.id} {run.id}   # side by side",
        "%pipeline backend   # which backend",
        "%pipeline backend local   # choose one",
    ):
        run_cell(ip, line)
    capsys.readouterr()
    run_cell(ip, f"%pipeline cancel {run.id}   # too late: it is left alone")
    assert capsys.readouterr().out == f"Run {run.id} is SUCCEEDED.\n"


def test_the_cli_reads_commented_magic_lines_too(tmp_path):
    from jupyter_mlops.notebook.reader import read_notebook

    from .notebooks import write_notebook

    path = write_notebook(
        tmp_path / "nb.ipynb",
        [
            "%pipeline new trained   # the name the run gets",
            "%%pipeline setup --packages numpy  # shared\nimport math\n",
            "%%component a --cpu 1  # first\nx = math.pi\n",
        ],
    )
    pipeline = read_notebook(path).active
    assert pipeline.name == "trained" and list(pipeline.steps) == ["a"]
    assert pipeline.setup_options.packages == ("numpy",)

"""The views show a step's own output: kfp's executor bookkeeping is dropped, whatever the chunking."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.render.log_filter import ExecutorLines, FilteredChunk, filter_chunk, without_executor_lines

STAMP = "[KFP Executor 2026-11-28 12:46:31,922"
LOG = f"""{STAMP} INFO]: Looking for component `add` in --component_module_path `/tmp/add/module.py`
{STAMP} INFO]: Loading KFP component "add" from /tmp/add/module.py (directory "/tmp/add")
{STAMP} INFO]: Got executor_input:
{{
    "inputs": {{
        "parameterValues": {{
            "a": 1
        }}
    }},
    "outputs": {{
        "outputFile": "/tmp/add/executor_output.json"
    }}
}}
adding 1 and 2
{{"a json line the step printed": true}}
}}
{STAMP} WARNING]: something the user should see
[KFP Executor is a phrase a user may print too]
progress 10%\rprogress 100%
{STAMP} INFO]: Wrote executor output file to /tmp/add/executor_output.json.
"""
SHOWN = f"""adding 1 and 2
{{"a json line the step printed": true}}
}}
{STAMP} WARNING]: something the user should see
[KFP Executor is a phrase a user may print too]
progress 10%\rprogress 100%
"""


def test_executor_info_lines_and_the_input_json_are_dropped_the_rest_kept() -> None:
    assert without_executor_lines(LOG) == SHOWN


@pytest.mark.parametrize("size", [1, 2, 3, 7, 40, 100])
def test_any_chunking_gives_the_same_text(size: int) -> None:
    lines = ExecutorLines()
    chunks = [LOG[i : i + size] for i in range(0, len(LOG), size)]
    shown = "".join(lines.push(c, final=i == len(chunks) - 1) for i, c in enumerate(chunks))
    assert shown == SHOWN


def test_a_partial_line_of_the_steps_own_shows_at_once_and_an_executor_one_waits() -> None:
    lines = ExecutorLines()
    assert lines.push("epoch 1/3 ...") == "epoch 1/3 ..."  # a progress line without a newline yet
    assert lines.push(" done\n") == " done\n"
    assert lines.push("[KFP Exec") == ""  # may be kfp's: held until the line ends
    assert lines.push(f"utor 2026 INFO]: Wrote the output.\n{STAMP[:5]}") == ""
    assert lines.push("", final=True) == STAMP[:5]  # the log ended: what was held is shown


def test_a_real_steps_log_shows_only_what_the_step_printed(tmp_path: Path, monkeypatch) -> None:
    import jupyter_mlops as mlops
    from tests.backends import pipelines

    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    run = mlops.run(pipelines.arith, {"a": 1, "b": 2}).wait(timeout=300)
    step = sorted(run.tasks)[0]
    raw = run.logs(step, executor_lines=True)
    assert "Got executor_input:" in raw and '"parameterValues"' in raw  # kfp's own executor wrote it
    assert without_executor_lines(raw).strip() in {"adding 1 and 2", "adding 3 and 10"}
    assert run.logs(step) == without_executor_lines(raw)  # what Run.logs gives unless asked for all


def _read_filtered(path: Path, limits: list[int]) -> str:
    """The log file read as the sidebar reads it through the log route with executor_lines=hide:
    from each answer's next_offset with its filter_state, each read at most `limits[i]` bytes."""
    from jupyter_mlops.store.logs import read_log

    shown, offset, state = [], 0, ""
    size = path.stat().st_size
    for limit in limits * 1000:
        while True:  # as the route: a read that decides nothing is made again, longer
            text, next_offset = read_log(path, offset, final=True, limit=limit)
            complete = next_offset >= size
            chunk = filter_chunk(text, state, final=complete)
            after = next_offset - len(chunk.held.encode("utf-8"))
            if after > offset or complete:
                break
            limit *= 2
        shown.append(chunk.text)
        offset, state = after, chunk.state
        if complete:
            return "".join(shown)
    raise AssertionError("the reads never reached the end of the log")


@pytest.mark.parametrize("seed", range(12))
def test_read_from_offsets_with_no_memory_between_reads_the_text_is_the_same(
    seed: int, tmp_path: Path
) -> None:
    """The filter lives on the server only (issue 10): each read carries its state in the answer."""
    import random

    rng = random.Random(seed)
    text = rng.choice([LOG, LOG.replace("\n", "\n\n"), "}\n" + LOG + "[KFP Exec", "é€ " + LOG + "ünï\n"])
    path = tmp_path / "step.log"
    path.write_bytes(text.encode("utf-8"))
    longest = max(len(line.encode()) for line in text.split("\n")) + 1
    limits = [rng.randint(longest, longest + 40) for _ in range(5)]  # a read holds a whole line at least
    assert _read_filtered(path, limits) == without_executor_lines(text)  # no traceback in these


def test_a_line_longer_than_any_of_kfps_is_not_held_back() -> None:
    long = "[KFP Executor " + "x" * 70_000
    assert filter_chunk(long) == FilteredChunk(long, "", "line")  # its rest shows too
    assert filter_chunk("[KFP Executor 2026") == FilteredChunk("", "[KFP Executor 2026", "")


def test_an_unknown_filter_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log filter state"):
        filter_chunk("x", "elsewhere")


FAILED_STEP = """working on it
Traceback (most recent call last):
  File "/site/jupyter_mlops/executor/worker.py", line 360, in _run_step
    _executor_main(request)
  File "/site/kfp/dsl/executor.py", line 453, in execute
    result = self.func(**func_kwargs)
             ^^^^^^^^^^^^^^^^^^^^^^^^
  File "/home/runs/r1/tmp/.steps/component-1.py", line 22, in crunch
    return _mlops_run_step(step='crunch', setup='', cell='...')
  File "/site/jupyter_mlops/step_runtime/run.py", line 322, in _mlops_exec
    return eval(code, ns) if mode == "eval" else exec(code, ns)
  File "<cell crunch>", line 4, in <module>
    ratio = total / (len(values) - 3)
            ~~~~~~^~~~~~~~~~~~~~~~~~~
  File "/home/me/project/helpers.py", line 2, in divide
    return a / b
ZeroDivisionError: division by zero
Traceback (most recent call last):
  File "/site/jupyter_mlops/executor/worker.py", line 360, in _run_step
    _executor_main(request)
OSError: the runner's own error, with no cell in it, stays whole
progress 10%\rprogress 100%"""
FAILED_SHOWN = """working on it
Traceback (most recent call last):
  [4 frames of the step runner left out; --executor-lines shows them]
  File "<cell crunch>", line 4, in <module>
    ratio = total / (len(values) - 3)
            ~~~~~~^~~~~~~~~~~~~~~~~~~
  File "/home/me/project/helpers.py", line 2, in divide
    return a / b
ZeroDivisionError: division by zero
Traceback (most recent call last):
  File "/site/jupyter_mlops/executor/worker.py", line 360, in _run_step
    _executor_main(request)
OSError: the runner's own error, with no cell in it, stays whole
progress 10%\rprogress 100%"""


@pytest.mark.parametrize("size", [1, 2, 3, 7, 20, 64, 10_000])
def test_a_failed_steps_traceback_starts_at_the_users_cell_whatever_the_chunking(size: int) -> None:
    """Before, `%pipeline logs`, `jupyter-mlops logs` and `Run.logs` showed the worker's, kfp's, the
    component module's and the step runtime's frames above the cell (one of them a line of 500+
    characters): a traceback through this package for the user's ZeroDivisionError."""
    from jupyter_mlops.render.log_filter import RunnerFrames, without_runner_frames

    assert without_runner_frames(FAILED_STEP) == FAILED_SHOWN
    frames = RunnerFrames()
    pieces = [FAILED_STEP[i : i + size] for i in range(0, len(FAILED_STEP), size)]
    shown = "".join(frames.push(p) for p in pieces) + frames.push("", final=True)
    assert shown == FAILED_SHOWN


def test_a_real_failed_steps_log_shows_the_cell_and_its_error(tmp_path: Path, monkeypatch) -> None:
    import subprocess
    import sys

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    import jupyter_mlops as mlops

    home = tmp_path / "home"
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(home))
    cells = [
        "%%component make\nvalues = [1, 2, 3]",
        "%%component crunch\ntotal = sum(values)\nratio = total / (len(values) - 3)",
    ]
    path = tmp_path / "fails.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in cells]), path)
    run = mlops.run(path).wait(timeout=300)
    assert run.state.value == "FAILED"
    log = run.logs("crunch")
    assert log.startswith("Traceback (most recent call last):\n  [") and "worker.py" not in log, log
    assert '  File "<cell crunch>", line 3, in <module>' in log
    assert log.rstrip().endswith("ZeroDivisionError: division by zero"), log
    assert "worker.py" in run.logs("crunch", executor_lines=True)
    printed = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "logs", run.id, "crunch"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    # each names what shows every line where it is read: the method's argument, the CLI's flag
    assert "left out; Run.logs(step, executor_lines=True) shows them]" in log, log
    assert printed == log.replace("Run.logs(step, executor_lines=True)", "--executor-lines")
    from jupyter_mlops.widgets import run_view

    panel, _ = run_view(run.backend, run.id).log_tail("crunch")  # the run view's step panel
    assert panel.startswith("Traceback (most recent call last):\n  [") and "worker.py" not in panel, panel
    assert "left out; %pipeline logs RUN STEP --executor-lines shows them]" in panel, panel


def _shown(text: str) -> str:
    from jupyter_mlops.render.log_filter import SIDEBAR, without_runner_frames

    return without_runner_frames(without_executor_lines(text), SIDEBAR)  # the route names the sidebar's box


@pytest.mark.parametrize("seed", range(40))
def test_read_in_chunks_with_no_memory_a_failed_steps_traceback_is_trimmed_alike(
    seed: int, tmp_path: Path
) -> None:
    """The log route's reads (executor_lines=hide) give what `%pipeline logs` shows, however the reads
    cut the log: a traceback split over two reads, a read that starts inside one. Before, the route
    left the runner's frames in (filter_chunk knew nothing of tracebacks)."""
    import random

    rng = random.Random(seed)
    pieces = [LOG, FAILED_STEP + "\n", "Trace", "Traceback (most recent call last):\n", "x\r", "é€\n", "}\n"]
    text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
    path = tmp_path / "step.log"
    path.write_bytes(text.encode("utf-8"))
    limits = [rng.randint(1, 90) for _ in range(5)]
    assert _read_filtered(path, limits) == _shown(text)


def test_a_chunk_that_ends_inside_a_traceback_holds_its_frames_back() -> None:
    head = FAILED_STEP.index("Traceback")
    cut = FAILED_STEP.index('  File "<cell')
    first = filter_chunk(FAILED_STEP[:cut])
    assert first.text == "working on it\nTraceback (most recent call last):\n"
    assert first.held == FAILED_STEP[head + len("Traceback (most recent call last):\n") : cut]
    assert first.state == "traceback"
    rest = filter_chunk(first.held + FAILED_STEP[cut:], first.state, final=True)
    assert first.text + rest.text == FAILED_SHOWN.replace("--executor-lines", "the 'kfp executor lines' box")


def test_a_traceback_too_long_to_hold_back_is_shown_whole() -> None:
    """Past what one read holds, frames above a cell are shown rather than held back for ever."""
    frames = '  File "/site/deep.py", line 1, in f\n    f()\n' * 8000  # ~350 kB, no cell yet
    chunk = filter_chunk("Traceback (most recent call last):\n" + frames)
    assert chunk.text == "Traceback (most recent call last):\n" + frames
    assert (chunk.held, chunk.state) == ("", "")

"""The views show a step's own output: kfp's executor bookkeeping is dropped, whatever the chunking."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.render.log_filter import ExecutorLines, without_executor_lines

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
    raw = run.logs(step)
    assert "Got executor_input:" in raw and '"parameterValues"' in raw  # kfp's own executor wrote it
    assert without_executor_lines(raw).strip() in {"adding 1 and 2", "adding 3 and 10"}


NODE_SCRIPT = """
const fs = require('fs');
const [path, input] = [process.argv[1], JSON.parse(fs.readFileSync(0, 'utf8'))];
const url = 'data:text/javascript,' + encodeURIComponent(fs.readFileSync(path, 'utf8'));
import(url).then(({ ExecutorLines }) => {
  const results = input.chunkings.map(chunks => {
    const lines = new ExecutorLines();
    return chunks.map((c, i) => lines.push(c, i === chunks.length - 1)).join('');
  });
  process.stdout.write(JSON.stringify(results));
});
"""


def test_the_sidebars_typescript_twin_gives_the_same_text() -> None:
    """labextension/src/logfilter.ts (compiled to lib/ by the build) against this module."""
    import json
    import random
    import shutil
    import subprocess

    compiled = Path(__file__).resolve().parents[2] / "labextension" / "lib" / "logfilter.js"
    assert compiled.is_file(), f"{compiled} is missing: `pip install -e .` builds the labextension"
    node = shutil.which("node")
    assert node, "node (which builds the labextension) is not on PATH"
    rng = random.Random(7)
    texts = [LOG, LOG.replace("\n", "\n\n"), "no newline at all", "}\n" + LOG + "[KFP Exec"]
    chunkings = []
    for text in texts:
        for _ in range(5):
            cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randint(1, 30))))
            chunkings.append([text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)])
    done = subprocess.run(
        [node, "-e", NODE_SCRIPT, str(compiled)],
        input=json.dumps({"chunkings": chunkings}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    expected = [without_executor_lines("".join(chunks)) for chunks in chunkings]
    assert json.loads(done.stdout) == expected

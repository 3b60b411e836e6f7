"""The README's "Sweeps and schedules" block, line by line as cells of a real kernel, on a notebook whose
parameters are the ones it sweeps."""

from __future__ import annotations

import json
from pathlib import Path

from tests.kernel.kernel_notebooks import KernelSession
from tests.newcomer.readme_blocks import readme_blocks

CELLS = [
    "%load_ext jupyter_mlops",
    "%%pipeline params\nlr = 0.1\ndepth = 3\ndropout = 0.2\n",
    # A known function of the parameters: accuracy peaks at lr=0.1, depth=4; loss is least near
    # lr=1e-2, dropout=0.25.
    "%%component score\n"
    "import math\n"
    "accuracy = 1 - abs(math.log10(lr) + 1) / 4 - abs(depth - 4) / 10\n"
    "loss = (math.log10(lr) + 2) ** 2 + (dropout - 0.25) ** 2\n"
    "log_metric('accuracy', accuracy)\n"
    "log_metric('loss', loss)\n",
]


def test_the_readme_sweeps_block_runs_line_by_line(tmp_path: Path) -> None:
    (block,) = [b for b in readme_blocks() if b.section == "Sweeps and schedules" and b.lang == "python"]
    lines = [line.split("   #")[0].strip() for line in block.text.splitlines() if line.strip()]
    kernel = KernelSession(tmp_path, env={"JUPYTER_MLOPS_HOME": str(tmp_path / "home")})
    try:
        for i, cell in enumerate(CELLS):
            reply, shown = kernel.run(cell, cell_id=f"setup{i}")
            assert reply["status"] == "ok", shown
        for i, line in enumerate(lines):
            reply, shown = kernel.run(line, cell_id=f"readme{i}")
            assert reply["status"] == "ok", f"README line {line!r}:\n{shown}"
        # The grid found the known best; the TPE sweep's best went into the schedule.
        reply, shown = kernel.run("import json; print(json.dumps(best))", cell_id="best")
        best = json.loads(shown.strip().splitlines()[-1])
        assert set(best) >= {"lr", "dropout"} and 1e-4 <= best["lr"] <= 1e-1
        reply, shown = kernel.run("%pipeline schedules", cell_id="schedules")
        assert "nightly" in shown and "0 3 * * *" in shown and "Europe/Paris" in shown
    finally:
        kernel.close()

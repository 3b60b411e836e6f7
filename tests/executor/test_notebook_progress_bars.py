"""tqdm.notebook's progress bars in a step: their widgets have no notebook to draw them, so a step's log
got the bar's text once, as it started (`epochs: 0%| | 0/5`), and nothing after. The step gives tqdm's
text bars under tqdm.notebook's names instead (as tqdm.auto picks outside a notebook): the log shows the
bar to its last update, as a terminal would. Steps that do not use tqdm.notebook compile as before."""

from __future__ import annotations

import pytest

from jupyter_mlops.models import RunState
from jupyter_mlops.render.terminal_text import as_a_terminal_shows

from .conftest import Runner
from .notebook_cells import compiled

SETUP = "%%pipeline setup{inline}\nimport time\nfrom tqdm.notebook import tqdm, trange\n"
LOOP = (
    "%%component loop\ntotal = 0\nfor i in tqdm(range(5), desc='epochs'):\n    total += i\n"
    "for j in trange(3, desc='folds'):\n    total += j\n"
)
LATER = "%%component later\nimport tqdm.notebook as tn\nfor k in tn.tnrange(4, desc='later'):\n    pass\n"


@pytest.mark.parametrize("inline", ["", " --inline-runtime"])
def test_notebook_bars_show_their_last_state_in_the_log(run_pipeline: Runner, inline: str) -> None:
    run = run_pipeline(compiled([SETUP.format(inline=inline), LOOP, LATER]))
    assert run.state == RunState.SUCCEEDED, run.listener.log("loop")[-3000:]
    shown = as_a_terminal_shows(run.listener.log("loop"))
    assert "epochs: 100%" in shown and "5/5" in shown, shown
    assert "folds: 100%" in shown and "3/3" in shown, shown
    assert "later: 100%" in as_a_terminal_shows(run.listener.log("later"))


def test_steps_without_notebook_bars_compile_as_before() -> None:
    plain = compiled(
        ["%%pipeline setup\nfrom tqdm.auto import tqdm\n", "%%component a\nx = sum(tqdm([1]))\n"]
    )
    assert "text_progress" not in str(plain)
    bars = compiled([SETUP.format(inline=""), LOOP])
    assert "text_progress=True" in str(bars)

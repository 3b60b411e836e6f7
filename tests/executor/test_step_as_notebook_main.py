"""A step's code runs as the notebook's does in its kernel: in `__main__`, with the root logger as a
fresh interpreter has it.

- `if __name__ == "__main__":` (scripts pasted into notebooks) runs in a step as it does in the kernel;
  before, the step's module was `__mlops_notebook__` and the block was silently skipped.
- `logging.basicConfig(level=logging.INFO, format=...)` in a setup cell takes effect in every step;
  before, kfp's executor had configured the root logger first (its format, INFO, stdout), so the
  user's call did nothing and the step's own INFO lines carried kfp's prefix, which the log views hide
  as kfp's bookkeeping.
- Classes of the setup cell are `__main__.X`, as in the kernel: their instances cross steps, their repr
  is the kernel's, and they load back in the kernel.

Also with the step runtime pasted into the step (--inline-runtime)."""

from __future__ import annotations

import pytest

from jupyter_mlops.models import RunState
from jupyter_mlops.render.log_filter import without_executor_lines

from .conftest import Runner
from .notebook_cells import compiled

SETUP = """%%pipeline setup{inline}
import logging
logging.basicConfig(level=logging.INFO, format="%(levelname)s|%(name)s|%(message)s")
log = logging.getLogger("nb")

class Point:
    def __init__(self, x):
        self.x = x

if __name__ == "__main__":
    print("setup ran as main")
"""
CELLS = [
    "%%component make\n"
    "p = Point(3)\n"
    "log.info('made %d', p.x)\n"
    "logging.getLogger('other').debug('hidden: below INFO')\n"
    "def main():\n"
    "    print('main() called')\n"
    "if __name__ == '__main__':\n"
    "    main()\n",
    "%%component use\nlog.warning('got %s', type(p).__module__)\nq = Point(p.x + 1)\nq\n",
]


@pytest.mark.parametrize("inline", ["", " --inline-runtime"])
def test_a_step_runs_as_the_notebook_main_with_its_own_logging(run_pipeline: Runner, inline: str) -> None:
    run = run_pipeline(compiled([SETUP.format(inline=inline), *CELLS]))

    assert run.state == RunState.SUCCEEDED, run.listener.log("make")[-3000:]
    make = without_executor_lines(run.listener.log("make"))  # what the views and `logs` show
    assert "setup ran as main" in make
    assert "main() called" in make
    assert "INFO|nb|made 3" in make
    assert "hidden" not in make
    assert "[KFP Executor" not in make  # kfp's own lines stay out of the step's view
    use = without_executor_lines(run.listener.log("use"))
    assert "WARNING|nb|got __main__" in use
    result = {a.name: a for a in run.listener.artifacts if a.step == "use"}["result"]
    assert result.metadata["repr"].startswith("<__main__.Point object")

"""`%load_ext jupyter_mlops` loads only what the magics need to exist (issue 15: it stays cheap): not
the cell analysis, which the first %%component cell loads, and not kfp, which compiling loads."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
shell.run_line_magic("load_ext", "jupyter_mlops")
print(sorted(m for m in ("jupyter_mlops.analysis.cell", "kfp", "nbformat", "yaml") if m in sys.modules))
shell.run_cell("%%component first\\nx = 1")
print("jupyter_mlops.analysis.cell" in sys.modules)
"""


def test_load_ext_leaves_the_analysis_for_the_first_cell() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "True"], out

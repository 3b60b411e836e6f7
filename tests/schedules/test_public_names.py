"""`mlops.sweep`, `mlops.get_sweep`, `mlops.schedule` and `mlops.list_schedules` are the functions, also
after their subpackages were imported (a subpackage of the same name would shadow a lazy attribute)."""

from __future__ import annotations

import subprocess
import sys


def test_the_public_names_are_functions() -> None:
    code = (
        "import jupyter_mlops as mlops, jupyter_mlops.schedules, jupyter_mlops.sweeps\n"
        "from jupyter_mlops.schedules import handle\n"
        "from jupyter_mlops.sweeps import handle as sweeps\n"
        "assert mlops.schedule is handle.schedule and mlops.list_schedules is handle.schedules\n"
        "assert mlops.sweep is sweeps.sweep and mlops.get_sweep is sweeps.get_sweep\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout == "ok\n", done.stderr

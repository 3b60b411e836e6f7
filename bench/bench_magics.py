"""How much the magics cost a notebook user.

1. `%load_ext jupyter_mlops` in a fresh IPython (a new process each time), against `from kfp import dsl`,
   what a user writing `@dsl.component` by hand pays first (the peer), in the same run.
2. The extra cost of a `%%component` cell over the same plain cell, in one IPython shell.

Run: python bench/bench_magics.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

LOAD = r"""
import time, sys
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
t0 = time.perf_counter()
shell.run_line_magic("load_ext", "jupyter_mlops")
dt = time.perf_counter() - t0
assert "kfp" not in sys.modules, "loading the extension imported kfp"
print(dt)
"""

PEER = r"""
import time
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
t0 = time.perf_counter()
shell.run_cell("from kfp import dsl")
print(time.perf_counter() - t0)
"""

CELL = """\
import math
values = [math.sqrt(i) for i in range(50)]
total = sum(values)
scaled = {k: v / total for k, v in enumerate(values)}
"""


def _subprocess_times(code: str, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return out


def _cell_times(repeat: int) -> tuple[list[float], list[float]]:
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    assert shell is not None
    shell.run_line_magic("load_ext", "jupyter_mlops")
    plain, magic = [], []
    for i in range(repeat):
        t0 = time.perf_counter()
        shell.run_cell(CELL, store_history=False)
        plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        shell.run_cell(f"%%component step{i % 5}\n" + CELL, store_history=False)
        magic.append(time.perf_counter() - t0)
    return plain, magic


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    load = _subprocess_times(LOAD, args.repeat)
    peer = _subprocess_times(PEER, args.repeat)
    plain, magic = _cell_times(max(50, args.repeat))
    load_ms, peer_ms = statistics.median(load) * 1e3, statistics.median(peer) * 1e3
    extra_ms = (statistics.median(magic) - statistics.median(plain)) * 1e3
    print(f"%load_ext jupyter_mlops      median {load_ms:7.1f} ms   (target <= 150 ms; kfp not imported)")
    print(
        f"peer: from kfp import dsl    median {peer_ms:7.1f} ms   ratio peer/ours = {peer_ms / load_ms:.1f}x"
    )
    print(f"plain cell                   median {statistics.median(plain) * 1e3:7.2f} ms")
    print(f"%%component cell             median {statistics.median(magic) * 1e3:7.2f} ms")
    print(f"extra cost of %%component    median {extra_ms:7.2f} ms   (target <= 5 ms)")


if __name__ == "__main__":
    main()

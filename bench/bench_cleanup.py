"""A bench's end that does not slow the next bench: its runner service stopped, its home deleted, then a
wait until the file system no longer holds the deleted files against new ones.

On ext4 without a journal (this machine's root file system: /sys/fs/ext4/*/journal_task says <none>),
the kernel skips the free inodes whose deletion is recent when it looks for a free inode for a new file,
one buffer lookup each (`recently_deleted` in fs/ext4/ialloc.c: 60 s after the deletion, 360 s while
the inode table's block is dirty, which making new files nearby keeps it). A bench home holds thousands
of files; right after one was deleted, a new file nearby cost 0.3-3 ms instead of 10-40 µs. Measured
here (2026-11-30 18:08, 10,000 files deleted, then 20 files made every 5 s): 26 µs at once, ~780 µs
15-30 s after, 360 µs at 45 s, then 60-270 µs until at least 225 s. `finish` waits `cooldown` seconds
(default 35: it takes the worst of it, not all); `--keep-home` in bench_user_side.py deletes nothing, for
series whose later benches must not pay for the earlier ones' files (measure_targets.sh deletes the kept
homes at its end). BENCHMARKS.md, "why it moved from one invocation to the next".
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

import psutil

RECENTLY_DELETED_S = 35.0  # the worst of ext4's window (see above), not all of it


def stop_services(home: Path) -> int:
    """SIGTERM the runner services (and what they forked) started for `home`: otherwise each stays
    for its idle period (300 s), with its zygotes, spare runner and spare step."""
    ours = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "runner_service" in cmdline and f"--home {home}" in cmdline:
            ours.append(process)
    for process in ours:
        try:
            process.send_signal(signal.SIGTERM)
        except psutil.Error:
            pass
    psutil.wait_procs(ours, timeout=5)
    return len(ours)


def finish(tmp: Path, homes: list[Path], cooldown: float = RECENTLY_DELETED_S, keep: bool = False) -> None:
    """Stop the services of `homes`, delete `tmp` (which holds them), then wait `cooldown` seconds; with
    `keep`, only stop them (`tmp` is left for the caller to delete)."""
    for home in homes:
        stop_services(home)
    if keep:
        print(f"(kept {tmp}: delete it when the benches are done)", file=sys.stderr, flush=True)
        return
    shutil.rmtree(tmp, ignore_errors=True)
    if cooldown > 0:
        print(
            f"(deleted {tmp}; waiting {cooldown:g} s so that the next bench does not pay for the deleted"
            " files: --cooldown 0 skips this)",
            file=sys.stderr,
            flush=True,
        )
        time.sleep(cooldown)


if __name__ == "__main__":  # python bench/bench_cleanup.py HOME...: stop those homes' services
    for arg in sys.argv[1:]:
        print(f"{arg}: {stop_services(Path(os.path.abspath(arg)))} service(s) stopped")

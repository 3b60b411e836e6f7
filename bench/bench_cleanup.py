"""A bench's end that does not slow the next bench: its runner service stopped, its home deleted, then a
wait until the file system no longer holds the deleted files against new ones.

On ext4 without a journal (this machine's root file system: /sys/fs/ext4/*/journal_task says <none>),
the kernel skips the inodes freed in the last 30 s (35 s while their table block is dirty) when it
looks for a free inode for a new file, one buffer lookup each (`recently_deleted` in fs/ext4/ialloc.c).
A bench home holds thousands of files (a step writes its output and its log); right after one was
deleted, a new file nearby cost 1-3 ms instead of 10-40 µs (measured here: 10,000 files deleted, then
20 files made every second for 45 s), and every step makes some. Benches run back to back then
drifted: per step 3.9, 5.4, 6.1, 7.0 ms in four runs seconds apart, back to normal after a pause.
`finish` therefore waits out that window (--cooldown 0 to skip it, e.g. for a single run).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

import psutil

RECENTLY_DELETED_S = 35.0  # ext4's window (30 s, +5 while the inode's table block is dirty)


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


def finish(tmp: Path, homes: list[Path], cooldown: float = RECENTLY_DELETED_S) -> None:
    """Stop the services of `homes`, delete `tmp` (which holds them), then wait `cooldown` seconds."""
    for home in homes:
        stop_services(home)
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

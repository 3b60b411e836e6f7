"""`python -m kfp_standin [PORT] [--home DIR]` (from tests/): serve the stand-in KFP server until Ctrl+C,
e.g. to run the server tests on kfp (tests/server/test_kfp_server.py says how)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from .server import StandIn

parser = argparse.ArgumentParser(prog="python -m kfp_standin")
parser.add_argument("port", type=int, nargs="?", default=0)
parser.add_argument("--home", type=Path, default=None)
args = parser.parse_args()
home = args.home or Path(tempfile.mkdtemp(prefix="kfp-standin-"))
server = StandIn(home)
print(f"stand-in KFP server at {server.start(args.port)} (runs in {home})", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    server.stop()

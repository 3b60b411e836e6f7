"""Steps that start processes meant to outlive them: a new session, a double-forked daemon."""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.
from kfp import dsl

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE)
def start_daemons(then_sleep: float) -> str:
    import os
    import subprocess
    import sys
    import time

    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    session = subprocess.Popen(sleeper, start_new_session=True, stdout=subprocess.DEVNULL)
    pids = [session.pid]
    read, write = os.pipe()
    if os.fork() == 0:  # a classic daemon: fork, setsid, fork again, the parent exits at once
        os.setsid()
        child = os.fork()
        if child:
            os.write(write, str(child).encode())
            os._exit(0)
        os.execv(sys.executable, sleeper)
    os.close(write)
    pids.append(int(os.read(read, 64).decode()))
    print("daemons:", " ".join(map(str, pids)), flush=True)
    time.sleep(then_sleep)
    return " ".join(map(str, pids))


@dsl.pipeline(name="escapees")
def escapees(then_sleep: float = 0.0) -> str:
    return start_daemons(then_sleep=then_sleep).output


@dsl.component(base_image=IMAGE)
def one(x: int) -> int:
    return x


@dsl.pipeline(name="wide-loop")
def wide_loop(items: list = [1]) -> None:  # noqa: B006  (kfp reads the default from the signature)
    with dsl.ParallelFor(items) as item:
        one(x=item)

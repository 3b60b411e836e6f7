"""Steps that show where they were forked from: the modules they find loaded, their worker's pid."""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.
from kfp import dsl

IMAGE = "python:3.11"
# kfp's executor and the step runtime (every step needs them), and what only the service loads
PROBED = [
    "kfp.dsl.executor_main",
    "jupyter_mlops.step_runtime.run",
    "jupyter_mlops.store",
    "jupyter_mlops.executor.engine",
    "psutil",
]


@dsl.component(base_image=IMAGE)
def loaded(names: list) -> list:
    import sys

    return [name for name in names if name in sys.modules]


@dsl.component(base_image=IMAGE)
def worker_pid(pid_file: str, seconds: float) -> int:
    import os
    import time

    with open(pid_file + ".tmp", "w") as f:
        f.write(str(os.getppid()))  # the step worker that forked this step
    os.replace(pid_file + ".tmp", pid_file)
    time.sleep(seconds)
    return os.getppid()


@dsl.component(base_image=IMAGE)
def interrupt_handling() -> str:
    import signal

    handler = signal.getsignal(signal.SIGINT)
    return getattr(handler, "__name__", None) or str(handler)  # a fresh interpreter: default_int_handler


@dsl.pipeline(name="interrupt-handling")
def interrupt_handlings() -> str:
    return interrupt_handling().output


@dsl.pipeline(name="loaded-modules")
def loaded_modules(names: list = PROBED) -> list:
    return loaded(names=loaded(names=names).output).output


@dsl.pipeline(name="worker-pid")
def worker_of_step(pid_file: str, seconds: float = 60.0) -> int:
    return worker_pid(pid_file=pid_file, seconds=seconds).output

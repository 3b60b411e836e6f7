"""Steps that show what they find at their start: random state, module state, threads. Run from a
zygote of the runner service (preloaded imports), they must find what a fresh interpreter finds."""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.
from kfp import dsl

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE, packages_to_install=["numpy"])
def probe(seed: int) -> str:
    import json
    import random
    import threading

    import numpy as np

    found = {
        "np_random": float(np.random.rand()),  # unseeded: from the OS, different in every process
        "py_random": random.random(),
        "precision": np.get_printoptions()["precision"],  # module state as a fresh import leaves it
        "probe_attribute": hasattr(np, "_left_by_an_earlier_step"),
        "threads": threading.active_count(),
    }
    np.random.seed(seed)
    found["np_seeded"] = float(np.random.rand())
    np.set_printoptions(precision=3)  # what this step does to the module is not seen by the next
    np._left_by_an_earlier_step = True  # type: ignore[attr-defined]
    return json.dumps(found)


@dsl.pipeline(name="probes")
def probes(seed: int = 0) -> None:
    first = probe(seed=seed)
    probe(seed=seed).after(first)


@dsl.component(base_image=IMAGE)
def thread_probe() -> str:
    import json
    import threading

    import startsathread  # a module that starts a thread when imported

    return json.dumps({"alive": startsathread.worker.is_alive(), "threads": threading.active_count()})


@dsl.pipeline(name="thread-probe")
def thread_probes() -> str:
    return thread_probe().output


@dsl.component(base_image=IMAGE)
def read_version() -> int:
    import fakepkg  # a package on PYTHONPATH that the test upgrades between runs

    return int(fakepkg.VALUE)


@dsl.pipeline(name="version-probe")
def version_probes() -> int:
    return read_version().output


@dsl.component(base_image=IMAGE)
def gated() -> int:
    import gatedmod  # a module on PYTHONPATH whose import waits until the test opens its gate

    return int(gatedmod.VALUE)


@dsl.pipeline(name="gated")
def gated_pair() -> int:
    first = gated()
    return gated().after(first).output

"""A step that shows the environment its modules were imported in, and the process settings that
decide how fast it allocates memory. Forked from a zygote of the runner service (preloaded imports),
it must find what a fresh interpreter with the same environment finds."""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.
from kfp import dsl

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE, packages_to_install=["numpy"])
def env_probe() -> str:
    import json

    import importenv  # tests put it on PYTHONPATH: it keeps what one variable said at its import
    import numpy as np

    multiarray = getattr(np, "_core", None) or np.core
    return json.dumps(
        {
            "seen_at_import": importenv.SEEN,
            # numpy reads NUMPY_MADVISE_HUGEPAGE when it is imported (huge pages for large arrays)
            "numpy_hugepages": bool(multiarray.multiarray._get_madvise_hugepage()),
        }
    )


@dsl.component(base_image=IMAGE, packages_to_install=["numpy"])
def settings_probe() -> str:
    import json

    import numpy  # noqa: F401  (preloaded: the step is forked from a zygote once it is ready)

    def settings() -> dict:
        import ctypes
        import os
        import resource

        prctl = ctypes.CDLL(None, use_errno=True).prctl
        return {
            "thp_disabled": prctl(42, 0, 0, 0, 0),  # PR_GET_THP_DISABLE: inherited across fork
            "timer_slack_ns": prctl(30, 0, 0, 0, 0),  # PR_GET_TIMERSLACK
            "affinity": sorted(os.sched_getaffinity(0)),
            "nice": os.getpriority(os.PRIO_PROCESS, 0),
            "scheduler": os.sched_getscheduler(0),
            "rlimits": {
                n: resource.getrlimit(getattr(resource, n)) for n in dir(resource) if n.startswith("RLIMIT_")
            },
            "malloc": {
                k: v
                for k, v in os.environ.items()
                if k.startswith(("MALLOC_", "GLIBC_TUNABLES", "PYTHONMALLOC"))
            },
        }

    return json.dumps(settings())


@dsl.pipeline(name="settings-probes")
def settings_probes() -> None:
    settings_probe().set_caching_options(False)


@dsl.pipeline(name="env-probes")
def env_probes() -> None:
    env_probe().set_env_variable("NUMPY_MADVISE_HUGEPAGE", "0").set_caching_options(False)


# What a fresh interpreter reports, for comparison (the step's body, run with `python -c`).
FRESH = (
    "import json, importenv, numpy as np; m = getattr(np, '_core', None) or np.core; "
    "print(json.dumps({'seen_at_import': importenv.SEEN, "
    "'numpy_hugepages': bool(m.multiarray._get_madvise_hugepage())}))"
)

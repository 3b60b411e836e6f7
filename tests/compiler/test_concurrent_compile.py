"""Compiling is safe from several threads at once (issue 12, item 3): kfp's pipeline context is
process-global ("Nested pipelines are not allowed"), and the server compiles notebooks in threads."""

from __future__ import annotations

import sys
import threading

from jupyter_mlops.compiler import compile_yaml
from jupyter_mlops.notebook.workspace import Workspace


def _pipeline(index: int) -> Workspace:
    w = Workspace(f"concurrent-{index}")
    w.define_params(f"n = {index}\n")
    w.define_component("make", "values = list(range(n))\n")
    w.define_component("total", "s = sum(values)\n")
    w.define_component("show", "print(s, len(values))\n")
    for step in range(10):  # a longer pipeline function: more time inside kfp's pipeline context
        w.define_component(f"extra{step}", f"e{step} = s + {step}\n")
    return w


def test_many_threads_compile_at_once_and_each_gets_its_own_pipeline() -> None:
    workspaces = [_pipeline(i) for i in range(8)]
    expected = [compile_yaml(w.active) for w in workspaces]  # one at a time
    results: dict[tuple[int, int], str] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(workspaces))

    def compile_many(index: int) -> None:
        try:
            start.wait()
            for round_ in range(4):
                results[(index, round_)] = compile_yaml(workspaces[index].active)
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=compile_many, args=(i,)) for i in range(len(workspaces))]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, as a busy server does
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        sys.setswitchinterval(interval)
    assert not errors, [repr(e) for e in errors]
    assert len(results) == 8 * 4
    for (index, _), text in results.items():
        assert text == expected[index]

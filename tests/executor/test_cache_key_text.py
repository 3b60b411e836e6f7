"""The step cache's keys are put together from pieces encoded once per executor (issue 15): they must be
the keys a single `json.dumps(identity, sort_keys=True)` gives, so that entries made before stay hits."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from jupyter_mlops.executor import cache
from jupyter_mlops.ir.spec import PythonStep
from jupyter_mlops.ir.values import Artifact


def _reference(component: Any, step: PythonStep, parameters: Any, artifacts: Any, working_dir: Any) -> str:
    identity = {
        "version": 2,
        "interface": {k: component.get(k) for k in ("inputDefinitions", "outputDefinitions")},
        "image": step.image,
        "command": list(step.command),
        "args": list(step.args),
        "env": step.env,
        "packages": sorted(step.requirements),
        "pip_options": list(step.pip_options),
        "working_dir": working_dir,
        "runtime": cache.step_runtime_digest() if "jupyter_mlops.step_runtime" in step.source else None,
        "parameters": dict(parameters),
        "artifacts": {
            name: [[a.schema_title, a.content_digest(), a.metadata] for a in group]
            for name, group in artifacts.items()
        },
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=repr).encode()).hexdigest()


def _step(source: str, **kw: Any) -> PythonStep:
    base: dict[str, Any] = {
        "executor_label": "exec-a", "source": source, "function": "f", "image": "python:3.11",
        "command": ("sh", "-c", "pip install 'kfp==2.9' pandas", source), "args": ("--executor_input", "{}"),
        "requirements": ("pandas", "kfp==2.9"), "pip_options": ("--index-url", "https://x/simple"),
        "env": {"B": "2", "A": "é"},
    }  # fmt: skip
    base.update(kw)
    return PythonStep(**base)


@pytest.mark.parametrize(
    ("step", "parameters", "working_dir"),
    [
        (_step("def f(x): return x"), {"x": 1, "b": [1.5, None, {"z": True, "a": "ü"}]}, "/notebooks/é"),
        (_step("import jupyter_mlops.step_runtime\ndef f(): pass", env={}), {}, None),
        (_step("def f(p): pass", requirements=(), pip_options=()), {"p": float("inf"), "q": 1e-300}, "/w"),
    ],
)
def test_a_key_is_the_sha256_of_the_whole_identity_as_json(
    step: PythonStep, parameters: Any, working_dir: Any
) -> None:
    component = {
        "inputDefinitions": {"parameters": {"x": {"parameterType": "NUMBER_INTEGER"}}},
        "outputDefinitions": {"artifacts": {"out": {"artifactType": {"schemaTitle": "system.Dataset"}}}},
        "executorLabel": "exec-a",
    }
    artifacts = {
        "data": [
            Artifact(
                name="data",
                uri="/nowhere",
                schema_title="system.Dataset",
                metadata={"rows": 3},
                digest="output:abc",
            )
        ],
    }
    for _ in range(2):  # encoded the first time, remembered the second
        assert cache.cache_key(component, step, parameters, artifacts, working_dir) == _reference(
            component, step, parameters, artifacts, working_dir
        )

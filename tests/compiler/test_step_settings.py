"""Every per-step option of %%component lands in the compiled IR or its Kubernetes platform config."""

from __future__ import annotations

import yaml

from jupyter_mlops.compiler import compile_yaml
from jupyter_mlops.notebook.workspace import Workspace


def _compile(steps: list[tuple[str, str]], params: str = "n = 3\n") -> list[dict]:
    w = Workspace("settings")
    w.define_params(params)
    for line, body in steps:
        w.define_component(line, body)
    return list(yaml.safe_load_all(compile_yaml(w.active)))


def test_settings_in_ir_and_platform_config():
    spec, platform = _compile(
        [
            (
                "prep --packages numpy==2.4.6,pandas --image python:3.12-slim --cpu 2 --memory 4G --gpu 1"
                " --retries 3 --timeout 600 --no-cache --node-selector pool=gpu --node-selector zone=a"
                " --toleration gpu=true:NoSchedule --toleration spot:NoExecute",
                "x = [n] * 2\n",
            ),
            ("use", "y = len(x)\n"),
        ]
    )
    container = spec["deploymentSpec"]["executors"]["exec-prep"]["container"]
    assert container["image"] == "python:3.12-slim"
    assert "'numpy==2.4.6' 'pandas'" in container["command"][2]
    res = container["resources"]
    assert (res["resourceCpuLimit"], res["resourceCpuRequest"]) == ("2", "2")
    assert (res["resourceMemoryLimit"], res["resourceMemoryRequest"]) == ("4G", "4G")
    assert (
        res["accelerator"]["resourceType"] == "nvidia.com/gpu" and res["accelerator"]["resourceCount"] == "1"
    )
    prep = spec["root"]["dag"]["tasks"]["prep"]
    assert prep["retryPolicy"]["maxRetryCount"] == 3
    assert prep["cachingOptions"] == {}  # caching disabled for this task
    assert spec["root"]["dag"]["tasks"]["use"]["cachingOptions"] == {"enableCache": True}
    k8s = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-prep"]
    assert k8s["activeDeadlineSeconds"] == "600"
    assert k8s["nodeSelector"]["labels"] == {"pool": "gpu", "zone": "a"}
    assert {"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in k8s["tolerations"]
    assert {"key": "spot", "operator": "Exists", "effect": "NoExecute"} in k8s["tolerations"]
    assert "exec-use" not in platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]


def test_auto_packages_pin_the_kernels_versions():
    from importlib import metadata

    (spec,) = _compile([("a --packages auto", "import yaml\nimport json\nv = yaml.safe_dump({'n': n})\n")])
    command = spec["deploymentSpec"]["executors"]["exec-a"]["container"]["command"][2]
    assert f"'PyYAML=={metadata.version('PyYAML')}'" in command
    assert "json" not in command.split("kfp==")[0]  # the standard library is not a package


def test_after_adds_an_ordering_edge_without_data():
    (spec,) = _compile([("a", "v = 1\n"), ("b --after a", "w = 2\n")])
    task = spec["root"]["dag"]["tasks"]["b"]
    assert task["dependentTasks"] == ["a"] and "inputs" not in task


def test_default_image_is_a_stock_python_of_this_interpreter():
    import sys

    (spec,) = _compile([("a", "v = n + 1\n")])
    image = spec["deploymentSpec"]["executors"]["exec-a"]["container"]["image"]
    assert image == f"python:{sys.version_info.major}.{sys.version_info.minor}"


def test_inputs_and_outputs_overrides():
    (spec,) = _compile(
        [
            ("a --outputs v,w", "v = 1\nw = 'x'\nunused = 3\n"),
            ("b --inputs v", "z = v\n"),
        ]
    )
    outs = spec["components"]["comp-a"]["outputDefinitions"]["parameters"]
    assert set(outs) == {"v", "w"}
    assert set(spec["root"]["dag"]["tasks"]["b"]["inputs"]["parameters"]) == {"v"}

"""--node-affinity: a step asks for (or, with a weight, prefers) nodes by label, e.g. spot instances;
it lands in the compiled YAML's Kubernetes platform config as the Pod's nodeAffinity."""

from __future__ import annotations

import pytest
import yaml

from jupyter_mlops.compiler import compile_yaml
from jupyter_mlops.errors import UsageError
from jupyter_mlops.notebook.options import parse_component_line
from jupyter_mlops.notebook.workspace import Workspace


def _platform(line: str) -> dict:
    w = Workspace("affinity")
    w.define_component(line, "x = 1\n")
    docs = list(yaml.safe_load_all(compile_yaml(w.active)))
    assert len(docs) == 2, "a Kubernetes setting makes a second YAML document"
    return docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-prep"]


def test_required_and_preferred_affinity_in_the_platform_config() -> None:
    k8s = _platform(
        "prep --node-affinity cloud.google.com/gke-spot=true"
        " --node-affinity eks.amazonaws.com/capacityType=SPOT,ON_DEMAND:80"
    )

    spot = {"key": "cloud.google.com/gke-spot", "operator": "In", "values": ["true"]}
    assert {"matchExpressions": [spot]} in k8s["nodeAffinity"]
    assert {
        "matchExpressions": [
            {"key": "eks.amazonaws.com/capacityType", "operator": "In", "values": ["SPOT", "ON_DEMAND"]}
        ],
        "weight": 80,
    } in k8s["nodeAffinity"]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("a --node-affinity spot", "KEY=VALUE[,VALUE...][:WEIGHT]"),
        ("a --node-affinity =true", "KEY=VALUE[,VALUE...][:WEIGHT]"),
        ("a --node-affinity spot=", "KEY=VALUE[,VALUE...][:WEIGHT]"),
        ("a --node-affinity spot=true:0", "WEIGHT from 1 to 100"),
        ("a --node-affinity spot=true:high", "WEIGHT from 1 to 100"),
    ],
)
def test_malformed_affinity_names_the_step_and_the_form(line: str, says: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_component_line(line)
    assert "%%component a: --node-affinity" in str(err.value) and says in str(err.value)

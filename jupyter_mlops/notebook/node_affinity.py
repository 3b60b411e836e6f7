"""`%%component NAME --node-affinity KEY=VALUE[,VALUE...][:WEIGHT]`: which nodes a step's Pod may run on.

Without a weight the step must run on a node whose label KEY has one of the values (required affinity);
with a weight (1-100) Kubernetes prefers such nodes and falls back to others (preferred affinity), the
usual way to put a step on spot instances when there are some: `--node-affinity
cloud.google.com/gke-spot=true:100`. Compiled with `kfp.kubernetes.add_node_affinity` into the YAML's
Kubernetes platform config; the local backend runs every step on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import UsageError

_FORM = "KEY=VALUE[,VALUE...][:WEIGHT]"


@dataclass(frozen=True)
class NodeAffinity:
    key: str
    values: tuple[str, ...]
    weight: int | None = None  # None: required; 1-100: preferred with this weight

    def kfp_arguments(self) -> dict[str, Any]:
        """Keyword arguments of `kfp.kubernetes.add_node_affinity`."""
        expression = {"key": self.key, "operator": "In", "values": list(self.values)}
        return {"match_expressions": [expression], "weight": self.weight}


def parse_node_affinity(step: str, item: str) -> NodeAffinity:
    body, colon, weight_text = item.rpartition(":")
    if not colon:
        body, weight_text = item, ""
    key, eq, values_text = body.partition("=")
    values = tuple(v.strip() for v in values_text.split(",") if v.strip())
    if not eq or not key.strip() or not values:
        raise UsageError(
            f"%%component {step}: --node-affinity {item!r} must be {_FORM}, "
            "e.g. --node-affinity cloud.google.com/gke-spot=true:100"
        )
    weight = None
    if colon:
        if not weight_text.isdigit() or not 1 <= int(weight_text) <= 100:
            raise UsageError(
                f"%%component {step}: --node-affinity {item!r}: the part after ':' is a WEIGHT from 1 to 100 "
                "(a preference); leave it out to require such a node"
            )
        weight = int(weight_text)
    return NodeAffinity(key.strip(), values, weight)

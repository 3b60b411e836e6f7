"""A stand-in Kubeflow Pipelines v2beta1 server for tests (server.py says what it is and is not)."""

from .server import Fault, StandIn

__all__ = ["Fault", "StandIn"]

"""The Kubeflow Pipelines backend (`%pipeline backend kfp --host URL`): see backend.py."""

from .backend import KfpBackend

__all__ = ["KfpBackend"]

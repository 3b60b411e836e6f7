"""`run.outputs` of a run whose artifact bytes stay where it ran (a KFP server's object store): asking for
a step that stored its values only as artifacts says so, with where they are, instead of a bare KeyError.
"""

from __future__ import annotations

from typing import Any

from .errors import Unsupported
from .models import ArtifactInfo


class OutputsElsewhere(Unsupported, KeyError):
    """A step's values are artifacts this backend does not download (also a KeyError, as `outputs[...]`)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not here"


class RemoteOutputs(dict[str, Any]):
    def __init__(self, outputs: dict[str, Any], artifacts: list[ArtifactInfo], run_url: str) -> None:
        super().__init__(outputs)
        self._local = outputs  # (says why a step has none)
        self._artifacts = artifacts
        self._run_url = run_url

    def __missing__(self, step: str) -> Any:
        stored = [a for a in self._artifacts if a.step == step]
        if not stored:
            return self._local[step]  # raises, saying why
        where = ", ".join(f"{a.name}: {a.uri}" for a in stored)
        raise OutputsElsewhere(
            f"step {step!r} stored its values as artifacts in the cluster's object store ({where}), "
            f"which this backend does not download: see the run in the KFP UI, {self._run_url}"
        )

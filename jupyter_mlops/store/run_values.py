"""A run's outputs as values: `run.outputs["make_df"]["df"]` is the DataFrame the step made.

A notebook step writes each output with the step runtime (`step_values.py`, `step_groups.py`): numpy,
parquet, JSON or pickle, chosen so that loading gives back exactly what the step had. Here the same
code reads it back in the kernel, lazily (a value is read when first asked for, then kept). Outputs
that are plumbing (the step's KFP Metrics artifact, its TensorBoard folder, a `None` last value) are
not listed; outputs of other pipelines (plain kfp components) are their artifact's path.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..ir.output_names import is_internal, user_name
from ..models import ArtifactInfo, StepInfo
from ..step_runtime.groups import _mlops_group_file
from ..step_runtime.values import _MLOPS_NOTEBOOK_MODULE, _MLOPS_UNBOUND, _mlops_load

_VALUE_FORMATS = ("npy", "parquet", "json", "pickle", "group", "repr")


@contextlib.contextmanager
def _notebook_module() -> Iterator[None]:
    """Values pickled by a step refer to the notebook's classes as `__main__.X`, the kernel's own; those
    stored by earlier versions through the step's module `__mlops_notebook__`, here the kernel's."""
    if _MLOPS_NOTEBOOK_MODULE in sys.modules or "__main__" not in sys.modules:
        yield
        return
    sys.modules[_MLOPS_NOTEBOOK_MODULE] = sys.modules["__main__"]
    try:
        yield
    finally:
        sys.modules.pop(_MLOPS_NOTEBOOK_MODULE, None)


def load_artifact_value(
    artifact: ArtifactInfo, variable: str, groups: dict[str, dict[str, Any]] | None = None
) -> Any:
    """The value a notebook step stored in `artifact` (KeyError if the step left it unbound).

    `groups` keeps the group pickles already loaded (by file name): members of one group come from
    one unpickling, so objects they shared in the step are shared here too (`frames[0] is df`)."""
    meta = artifact.metadata
    path = artifact.uri
    where = f"output {variable!r} of step {artifact.step!r} (run {artifact.run_id})"
    if not os.path.isdir(path):
        raise UsageError(f"{where}: its files are gone ({path} does not exist)")
    if meta.get("format") == "repr":
        with open(os.path.join(path, "value.txt"), encoding="utf-8") as f:
            return f.read()  # the step could not store the value itself: its repr is what there is
    try:
        with _notebook_module():
            if meta.get("format") == "group":
                filename = _mlops_group_file(path)
                if filename is None:
                    raise UsageError(f"{where}: no stored value in {path}")
                groups = {} if groups is None else groups
                if filename not in groups:
                    with open(os.path.join(path, filename), "rb") as f:
                        groups[filename] = pickle.load(f)
                value = groups[filename].get(variable, _MLOPS_UNBOUND)
            else:
                value = _mlops_load(path, artifact.step, variable, meta)
    except ImportError as exc:
        raise UsageError(
            f"{where} needs the package {exc.name!r} to load, which this Python lacks: install it here "
            "(the step had it)"
        ) from None
    except (AttributeError, TypeError) as exc:
        raise UsageError(
            f"{where} refers to code this kernel does not define ({exc}); run the notebook's setup cells "
            "(or the cell defining it) first"
        ) from None
    if value is _MLOPS_UNBOUND:
        raise KeyError(f"{where}: the step left it unbound (the path it took did not assign it)")
    return value


def value_file(artifact: ArtifactInfo) -> Path:
    """The file holding a notebook step's value, or the artifact's own path for other artifacts."""
    path = Path(artifact.uri)
    if artifact.metadata.get("format") in _VALUE_FORMATS and path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file())
        if len(files) == 1:
            return files[0]
    return path


class StepOutputs(Mapping[str, Any]):
    """One step's outputs by the names its cell gave them; each value is read on first use, then kept.

    `.path(name)` is the file (or folder) holding it. Shown, it lists the outputs without reading them.
    """

    def __init__(
        self,
        run_id: str,
        step: StepInfo,
        artifacts: list[ArtifactInfo],
        variables: Mapping[str, str] | None = None,
        result_name: str | None = None,
        fetch: Callable[[ArtifactInfo], ArtifactInfo] | None = None,
    ) -> None:
        self.run_id = run_id
        self.step = step.name
        self.result_name = result_name  # the cell ended with this bare name: `result` is its value
        self._fetch = fetch  # an artifact elsewhere (a KFP run's object store) -> its local copy
        by_arg = {a.name: a for a in artifacts}
        self._artifacts: dict[str, ArtifactInfo] = {}
        self._plain: dict[str, Any] = {}
        for arg, value in step.outputs.items():
            artifact = by_arg.get(arg)
            if value is None or is_internal(arg, artifact):
                continue
            name = user_name(arg, artifact, variables or {})
            if artifact is not None:
                self._artifacts[name] = artifact
            else:
                self._plain[name] = value  # a parameter output: its value is in the record
        self._loaded: dict[str, Any] = {}
        self._groups: dict[str, dict[str, Any]] = {}

    def _known(self) -> list[str]:
        return [*self._artifacts, *self._plain]

    def binding_name(self, name: str) -> str:
        """The name to give output `name` in a namespace: the cell's last value under its variable."""
        if name == "result" and self.result_name and self.result_name not in self._known():
            return self.result_name
        return name

    def __contains__(self, name: object) -> bool:  # without reading the value (Mapping's would)
        known = self._known()
        return name in known or (name == self.result_name and "result" in self._artifacts)

    def __getitem__(self, name: str) -> Any:
        if name in self._plain:
            return self._plain[name]
        if name not in self._artifacts and name == self.result_name and "result" in self._artifacts:
            name = "result"  # `final` on the cell's last line: its value is the step's result
        if name not in self._artifacts:
            known = ", ".join(self._known()) or "none"
            raise KeyError(
                f"step {self.step!r} of run {self.run_id} has no output {name!r} (outputs: {known}). "
                "A step keeps the values that later steps read and its cell's last value (`result`); "
                f"to keep {name!r}, end the cell with it or list it in the step's --outputs"
            )
        if name not in self._loaded:
            artifact = self._artifacts[name]
            if self._fetch is not None:
                artifact = self._artifacts[name] = self._fetch(artifact)
            if artifact.metadata.get("format") in _VALUE_FORMATS:
                self._loaded[name] = load_artifact_value(artifact, name, self._groups)
            else:
                self._loaded[name] = artifact.uri  # not written by a notebook step: its path
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._known())

    def __len__(self) -> int:
        return len(self._artifacts) + len(self._plain)

    def path(self, name: str) -> Path:
        if name in self._plain:  # a KFP parameter: its value is in the run's record, no file holds it
            raise KeyError(
                f"output {name!r} of step {self.step!r} (run {self.run_id}) is no file: it crossed steps "
                f"as a parameter ({self._plain[name]!r}); read it with "
                f"run.outputs[{self.step!r}][{name!r}]"
            )
        if name not in self._artifacts:
            known = ", ".join(self._known()) or "none"
            raise KeyError(
                f"step {self.step!r} of run {self.run_id} has no output {name!r} (outputs: {known})"
            )
        if self._fetch is not None:
            self._artifacts[name] = self._fetch(self._artifacts[name])
        return value_file(self._artifacts[name])

    def describe(self, name: str) -> str:
        """What an output is, from its record (no file is read): `numpy.ndarray (5,) int64`."""
        if name in self._plain:
            return repr(self._plain[name])
        meta = self._artifacts[name].metadata
        kind = str(meta.get("type") or self._artifacts[name].type)
        shown = _small_value_shown(meta, kind)
        if shown is not None:
            return shown
        shape = meta.get("shape")
        extra = f" {tuple(shape)}" if isinstance(shape, list) else ""
        extra += f" {meta['dtype']}" if meta.get("dtype") else ""
        return f"<{kind}{extra}>"

    def __repr__(self) -> str:
        items = ", ".join(f"{n!r}: {self.describe(n)}" for n in self)
        return "{" + items + "}"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


def _small_value_shown(meta: Mapping[str, Any], kind: str) -> str | None:
    """A number, bool or short string stored as JSON, as its repr (its preview holds all of it: no file
    is read); None for anything else, which is described by its type and shape instead."""
    preview = meta.get("preview")
    if meta.get("format") != "json" or not isinstance(preview, dict) or preview.get("kind") != "text":
        return None
    text = preview.get("text")
    if not isinstance(text, str):
        return None
    if kind in ("int", "float", "bool", "NoneType"):
        return text if "\u2026" not in text else None  # (a cut one ends with an ellipsis)
    if kind == "str" and preview.get("length") == len(text) and len(text) <= 80:
        return repr(text)
    return None


def step_outputs(
    run_id: str,
    steps: list[StepInfo],
    artifacts: list[ArtifactInfo],
    variables: Mapping[str, Mapping[str, str]] | None = None,
    *,
    result_names: Mapping[str, str | None] | None = None,
    fetch: Callable[[ArtifactInfo], ArtifactInfo] | None = None,
) -> RunOutputs:
    """Step name -> its outputs, for the steps that produced any the user made. `variables`: per
    step, output argument -> the user's variable (from the compiled step, `step_sources`)."""
    by_step: dict[str, list[ArtifactInfo]] = {}
    for artifact in artifacts:
        by_step.setdefault(artifact.step, []).append(artifact)
    out = RunOutputs(run_id, steps)
    for step in steps:
        if not step.outputs:
            continue
        names = (variables or {}).get(step.name, {})
        result_name = (result_names or {}).get(step.name)
        outputs = StepOutputs(run_id, step, by_step.get(step.name, []), names, result_name, fetch)
        if len(outputs):
            out[step.name] = outputs
    return out


class NoOutputs(KeyError):
    """`run.outputs[step]` for a step with no values (also a KeyError): says why."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "no outputs"


class RunOutputs(dict[str, StepOutputs]):
    """Step name -> its outputs; asking for a step that has none says why (no such step, not done,
    failed, or it kept no values) instead of a bare KeyError."""

    def __init__(self, run_id: str, steps: list[StepInfo]) -> None:
        super().__init__()
        self.run_id = run_id
        self._steps = {s.name: s for s in steps}

    def __missing__(self, name: str) -> StepOutputs:
        step = self._steps.get(name)
        if step is None:
            known = ", ".join(self._steps) or "none"
            raise NoOutputs(f"run {self.run_id} has no step {name!r} (its steps: {known})")
        state = step.state.value
        if not step.state.terminal:
            raise NoOutputs(
                f"step {name!r} of run {self.run_id} is {state}: its values are here once it has "
                "succeeded (run.wait() first)"
            )
        if step.state.value in ("FAILED", "SKIPPED", "CANCELED", "CANCELING"):
            error = f" ({step.error})" if step.error else ""
            raise NoOutputs(f"step {name!r} of run {self.run_id} {state}{error}: it stored no values")
        raise NoOutputs(
            f"step {name!r} of run {self.run_id} kept no values: a step keeps the values that later "
            "steps read and its cell's last value; to keep one, end the cell with it or list it in "
            "the step's --outputs"
        )

"""What a compiled notebook step was, read back from a run's pipeline YAML: the cell's code, the setup
code, and which component argument carries which of the user's variables.

Every notebook step's component ends with one call of the step runtime whose keywords are
literals (`compiler.kfp_ir.step_function_source`): `step=`, `setup=`, `cell=`, `inputs=`, `outputs=`,
`result=`. They are read with `ast.literal_eval`, never run. Steps of other pipelines (plain kfp
components) have no such call and are not listed.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .graph import step_label

KEYWORDS = ("step", "setup", "cell", "inputs", "outputs", "result")  # the runtime call's


@dataclass(frozen=True)
class StepSource:
    step: str  # the step's name as the user wrote it
    setup: Any  # the setup code: one string, or [label, source, line pairs] chunks
    cell: str  # the cell's body (without its %%component line)
    inputs: dict[str, tuple[str, str]]  # component argument -> (variable, kind)
    outputs: dict[str, tuple[str, str]]
    result: bool  # the cell's last line is kept as the output `result`
    defaults: dict[str, Any]  # list/dict parameter -> the params cell's literal (`_mlops_like`)

    @property
    def variables(self) -> dict[str, str]:
        """Every input and output argument -> the user's variable it carries."""
        return {arg: var for table in (self.inputs, self.outputs) for arg, (var, _) in table.items()}

    def variable(self, argument: str) -> str:
        """The user's variable an input or output argument carries (`out_x` carries `_x`)."""
        for table in (self.outputs, self.inputs):
            if argument in table:
                return table[argument][0]
        return argument

    @property
    def result_name(self) -> str | None:
        """The variable the cell's last line names, when its last value is a bare name (`final`)."""
        return _last_name(self.cell) if self.result else None

    def setup_code(self) -> str:
        """The setup cells' code, one after another."""
        if isinstance(self.setup, str):
            return self.setup
        return "\n".join(str(chunk[1]) for chunk in self.setup if len(chunk) > 1)


@functools.lru_cache(maxsize=256)
def _last_name(cell: str) -> str | None:
    try:
        body = ast.parse(cell).body
    except SyntaxError:  # IPython syntax the step's code had removed: no name to offer
        return None
    last = body[-1] if body else None
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Name):
        return last.value.id
    return None


def runtime_call(source: str) -> dict[str, Any] | None:
    """The step runtime call's literal keywords. The step's function comes last in its program, after
    the inlined runtime (thousands of lines): its `def` alone is parsed first, the whole program only
    if that finds nothing (a 20-step run's first view took ~0.4 s parsing every runtime)."""
    last_def = source.rfind("\ndef ")
    if last_def >= 0:
        found = _call_in(source[last_def + 1 :])
        if found is not None:
            return found
    return _call_in(source)


def _call_in(source: str) -> dict[str, Any] | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    return call_in_tree(tree)


def call_in_tree(tree: ast.AST) -> dict[str, Any] | None:
    """The step runtime call's literal keywords in a parsed program (or its step's `def`), if any."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if all(k in keywords for k in KEYWORDS):
            try:
                found = {k: ast.literal_eval(keywords[k]) for k in (*KEYWORDS, "defaults") if k in keywords}
                return found
            except ValueError:
                return None
    return None


def _program(container: Mapping[str, Any]) -> str:
    """The Python program a lightweight component's container runs (its longest command string)."""
    texts = [str(t) for t in container.get("command", []) or [] if isinstance(t, str)]
    return max(texts, key=len) if texts else ""


def notebook_steps(documents: Sequence[Mapping[str, Any]]) -> dict[str, StepSource]:
    """Step name (as the run reports it) -> its source, for the notebook steps of the root DAG."""
    if not documents:
        return {}
    spec = documents[0]
    components = spec.get("components", {}) or {}
    executors = (spec.get("deploymentSpec", {}) or {}).get("executors", {}) or {}
    tasks = ((spec.get("root", {}) or {}).get("dag", {}) or {}).get("tasks", {}) or {}
    found: dict[str, StepSource] = {}
    for key, task in tasks.items():
        component = components.get((task.get("componentRef") or {}).get("name", ""), {}) or {}
        executor = executors.get(component.get("executorLabel", ""), {}) or {}
        container = executor.get("container")
        if not isinstance(container, Mapping):
            continue
        call = runtime_call(_program(container))
        if call is None:
            continue
        found[step_label(key, task)] = StepSource(
            step=str(call["step"]),
            setup=call["setup"],
            cell=str(call["cell"]),
            inputs={str(k): (str(v[0]), str(v[1])) for k, v in dict(call["inputs"]).items()},
            outputs={str(k): (str(v[0]), str(v[1])) for k, v in dict(call["outputs"]).items()},
            result=bool(call["result"]),
            defaults=dict(call.get("defaults") or {}),
        )
    return found


def run_step_sources(backend: Any, run_id: str) -> dict[str, StepSource]:
    """The notebook steps of a run whose pipeline file this machine has (the local backend keeps it
    as `<run>/pipeline.yaml`); {} for other backends. Read once per file (views ask often)."""
    run_dir = getattr(backend, "run_dir", None)
    if run_dir is None:
        return {}
    # Documents are kept as they came: pipeline.json (handed over as dicts) or pipeline.yaml (as text).
    for name in ("pipeline.json", "pipeline.yaml"):
        path = run_dir(run_id) / name
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            continue
        return _file_sources(str(path), stamp)
    return {}


@functools.lru_cache(maxsize=64)
def _file_sources(path: str, stamp: int) -> dict[str, StepSource]:
    import json

    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as f:
            if path.endswith(".json"):
                loaded = json.load(f)
                documents = [
                    d for d in (loaded if isinstance(loaded, list) else [loaded]) if isinstance(d, dict)
                ]
            else:
                documents = [d for d in yaml.load_all(f, Loader=loader) if isinstance(d, dict)]
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    return notebook_steps(documents)

"""Turn a PipelinePlan into kfp components and a pipeline, and compile it with kfp's own compiler.

Each step becomes a lightweight Python component whose function body is the inlined step runtime
(`step_runtime.py`) plus the setup and cell sources as string literals, so it runs on a stock python
image with only its declared packages. kfp reads a component's source with `inspect.getsource`, so the
generated functions are registered in `linecache` under the filename given to `compile()`.
"""

from __future__ import annotations

import ast
import builtins
import functools
import hashlib
import linecache
import os
import sys
import tempfile
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis.across_cells import SETUP_CELL
from ..analysis.value_kinds import ARTIFACT
from ..errors import CellError
from .kfp_errors import explain
from .plan import PipelinePlan, StepPlan

_RUNTIME_FILES = [
    Path(__file__).with_name(n)
    for n in ("step_values.py", "step_groups.py", "step_tensorboard.py", "step_runtime.py")
]
# Steps run on a stock image of the Python that compiled them, so pickled values load alike.
DEFAULT_IMAGE = f"python:{sys.version_info.major}.{sys.version_info.minor}"
# The one name the generated component function binds besides its arguments (see step_function_source).
_RUNTIME_FUNCTION = "_mlops_runtime"
# kfp keeps the pipeline being built in a process-global (`Pipeline._default_pipeline`): two threads
# building at once fail with "Nested pipelines are not allowed" (the server compiles in threads).
_KFP_PIPELINE_LOCK = threading.Lock()
_KFP_RESERVED = frozenset({"Output"})  # kfp refuses it as an argument (its name for a single output)


@functools.lru_cache(maxsize=1)
def _runtime_source() -> str:
    """step_values.py, step_groups.py then step_runtime.py, without comment headers and relative imports."""
    parts: list[str] = []
    for file in _RUNTIME_FILES:
        text = file.read_text(encoding="utf-8")
        lines = text.splitlines()
        drop: set[int] = set()
        for node in ast.parse(text).body:
            if isinstance(node, ast.ImportFrom) and node.level:
                drop.update(range(node.lineno - 1, node.end_lineno or node.lineno))
        start = next(i for i, line in enumerate(lines) if line.startswith("import "))
        parts.append("\n".join(line for i, line in enumerate(lines) if i >= start and i not in drop))
    return _compact("\n\n\n".join(parts) + "\n")


def _compact(source: str) -> str:
    """The same code without comments and docstrings (`ast.unparse`): it is pasted into every step
    of the YAML, so each byte counts many times over (the files themselves keep their docs)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = node.body
            first = body[0] if body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree) + "\n"


@functools.lru_cache(maxsize=1)
def _runtime_builtins() -> tuple[str, ...]:
    """Every builtin name the inlined runtime uses."""
    tree = ast.parse(_runtime_source())
    return tuple(
        sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and hasattr(builtins, n.id)})
    )


def _runtime_body() -> str:
    """The runtime wrapped in a function that binds the builtins it uses, then returns _mlops_run_step.

    Code nested in the component function would see the function's arguments before any builtin or
    import: an argument `time`, `open` or `json` (a user's variable) would take their place. Inside
    this wrapper every name the runtime uses is the wrapper's own.
    """
    names = _runtime_builtins()
    bind = "".join(f"{n} = _mlops_builtins.{n}\n" for n in names)
    inner = "import builtins as _mlops_builtins\n\n" + bind + "\n" + _runtime_source()
    inner += "return _mlops_run_step\n"
    return f"def {_RUNTIME_FUNCTION}():\n" + textwrap.indent(inner, "    ")


def _free_name(base: str, taken: set[str], suffix: str = "_in") -> str:
    name = base
    while name in taken:
        name += suffix
    taken.add(name)
    return name


def _line_runs(lines: tuple[int, ...]) -> list[list[int]]:
    """[[source line, user line], ...] where the user's numbering does not simply go on by one."""
    runs: list[list[int]] = []
    for i, user in enumerate(lines, start=1):
        if i == 1 or user != lines[i - 2] + 1:
            runs.append([i, user])
    return runs


def step_function_source(plan: PipelinePlan, step: StepPlan) -> str:
    """The Python source of the kfp component function for one step."""
    sig: list[str] = []
    inputs: dict[str, tuple[str, str]] = {}
    outputs: dict[str, tuple[str, str]] = {}
    names = _argument_names(plan, step)
    defaults: dict[str, Any] = {}
    for arg, var, kind, _ in input_arguments(plan, step):
        sig.append(f"{arg}: Input[Dataset]" if kind == ARTIFACT else f"{arg}: {kind}")
        inputs[arg] = (var, kind)
        if kind in ("list", "dict") and var in step.params:
            defaults[arg] = plan.params[var].default  # KFP makes their ints floats: the runtime undoes it
    for var, kind in step.outputs.items():
        if kind == ARTIFACT:
            sig.append(f"{names.outputs[var]}: Output[Dataset]")
            outputs[names.outputs[var]] = (var, ARTIFACT)
    if step.result:
        sig.append("result: Output[Dataset]")
        outputs["result"] = ("result", ARTIFACT)
    if step.uses_metrics:
        sig.append(f"{names.metrics}: Output[Metrics]")
    if step.uses_logdir:
        sig.append(f"{names.logdir}: Output[Artifact]")
    param_outs = [(v, k) for v, k in step.outputs.items() if k != ARTIFACT]
    for var, kind in param_outs:
        outputs[names.outputs[var]] = (var, kind)
    returns = ""
    if param_outs:
        fields = ", ".join(f"({names.outputs[v]!r}, {k})" for v, k in param_outs)
        returns = f" -> NamedTuple('Outputs', [{fields}])"
    arg_names = [a.split(":")[0] for a in sig]
    call_args = ", ".join(f"{a!r}: {a}" for a in arg_names)
    runner = names.runner
    body = _runtime_body().replace(f"def {_RUNTIME_FUNCTION}():", f"def {runner}():", 1)
    body += textwrap.dedent(
        f"""
        return {runner}()(
            step={step.name!r},
            setup={plan.setup!r},
            cell={step.source!r},
            args={{{call_args}}},
            inputs={inputs!r},
            outputs={outputs!r},
            result={step.result!r},
            cell_lines={_line_runs(step.line_map) if step.line_map else None!r},
            setup_lines={_line_runs(plan.setup_line_map) if plan.setup_line_map else [[1, 2]]!r},
            metrics_arg={names.metrics!r},
            logdir_arg={names.logdir!r},
            defaults={defaults!r},
            groups={[[names.outputs[v] for v in sorted(g)] for g in step.groups]!r},
        )
        """
    )
    header = f"def {step.name}({', '.join(sig)}){returns}:\n"
    doc = f'    """Notebook step {step.name!r} of pipeline {plan.name!r} (generated by jupyter-mlops)."""\n'
    return header + doc + textwrap.indent(body, "    ")


@dataclass(frozen=True)
class _Names:
    """The component's argument names that are not simply a variable's name, chosen free of them all."""

    outputs: dict[str, str]  # output variable -> its output's name (an argument, or a returned field)
    metrics: str
    logdir: str
    runner: str


def _output_name(var: str, taken: set[str]) -> str:
    # A returned field (a NamedTuple's) cannot start with "_"; kfp reserves "Output".
    if var.startswith("_"):
        return _free_name("out" + var, taken, "_out")
    return _free_name(var, taken, "_out") if var in _KFP_RESERVED else var


def _argument_names(plan: PipelinePlan, step: StepPlan) -> _Names:
    variables = set(step.outputs) | set(step.inputs) | set(step.params)
    taken = variables | {"result"} | _KFP_RESERVED
    metrics = _free_name("mlops_metrics", taken)
    logdir = _free_name("mlops_logdir", taken)
    runner = _free_name(_RUNTIME_FUNCTION, taken)
    outputs = {v: _output_name(v, taken) for v in sorted(step.outputs)}
    return _Names(outputs=outputs, metrics=metrics, logdir=logdir, runner=runner)


def _define(source: str, name: str, namespace: dict[str, Any]) -> Any:
    filename = f"<jupyter-mlops {name} {hashlib.sha256(source.encode()).hexdigest()[:12]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    # dont_inherit: this module's `from __future__ import annotations` must not turn the
    # generated annotations into strings, which kfp cannot read as types.
    exec(compile(source, filename, "exec", dont_inherit=True), namespace)
    return namespace[name]


def _pipeline_function_name(plan: PipelinePlan) -> str:
    return "pipeline_" + plan.kfp_name.replace("-", "_")


def _pipeline_names(plan: PipelinePlan) -> tuple[str, str, str]:
    """The pipeline function's own names (tasks, components, configure), free of its parameters'."""
    taken = set(plan.params) | {_pipeline_function_name(plan)}
    return (
        _free_name("tasks", taken),
        _free_name("components", taken),
        _free_name("configure", taken),
    )


def _pipeline_function_source(plan: PipelinePlan) -> str:
    tasks, components, configure = _pipeline_names(plan)
    sig = ", ".join(f"{p.name}: {p.type} = {p.default!r}" for p in plan.params.values())
    lines = [f"def {_pipeline_function_name(plan)}({sig}):"]
    for step in plan.steps:
        args = [f"{arg}={source}" for arg, _, _, source in input_arguments(plan, step, tasks)]
        lines.append(f"    {tasks}[{step.name!r}] = {components}[{step.name!r}]({', '.join(args)})")
        lines.append(f"    {configure}({tasks}[{step.name!r}], {step.name!r})")
    if len(lines) == 1:
        lines.append("    pass")
    return "\n".join(lines) + "\n"


def input_arguments(
    plan: PipelinePlan, step: StepPlan, tasks: str = "tasks"
) -> list[tuple[str, str, str, str]]:
    """(component argument, variable, kind, pipeline expression feeding it) for each input of a step.

    An argument is the variable's own name unless an output or a name the component needs takes it
    (`x` both read and written by a step: the input becomes `x_in`).
    """
    names = _argument_names(plan, step)
    artifact_outputs = [v for v, k in step.outputs.items() if k == ARTIFACT]
    taken = {*artifact_outputs, *(names.outputs[v] for v in artifact_outputs)}
    taken |= {names.metrics, names.logdir, names.runner}
    taken |= ({"result"} if step.result else set()) | _KFP_RESERVED
    out = [(_free_name(v, taken), v, plan.params[v].type, v) for v in step.params]
    for var, (producer, kind) in sorted(step.inputs.items()):
        key = _argument_names(plan, plan.step(producer)).outputs[var]
        out.append((_free_name(var, taken), var, kind, f"{tasks}[{producer!r}].outputs[{key!r}]"))
    return out


def build_yaml(plan: PipelinePlan) -> str:
    try:
        return _build_yaml(plan)
    except (ValueError, TypeError) as exc:  # kfp refused something: one line naming the cell
        raise explain(exc, plan) from exc


def _build_yaml(plan: PipelinePlan) -> str:
    for name in sorted(plan.params):
        if name in _KFP_RESERVED or not name[:1].isalpha():
            why = "reserves that name" if name in _KFP_RESERVED else "needs its names to begin with a letter"
            raise CellError(
                f"a pipeline parameter cannot be called {name!r}: Kubeflow Pipelines {why}. "
                "Rename it in the params cell and where the steps read it.",
                cell=SETUP_CELL.replace("setup", "params"),
            )
    from kfp import compiler, dsl, kubernetes
    from kfp.dsl import Artifact, Dataset, Input, Metrics, Output

    namespace: dict[str, Any] = {
        "Input": Input,
        "Output": Output,
        "Dataset": Dataset,
        "Metrics": Metrics,
        "Artifact": Artifact,
        "NamedTuple": __import__("typing").NamedTuple,
    }
    components: dict[str, Any] = {}
    for step in plan.steps:
        func = _define(step_function_source(plan, step), step.name, dict(namespace))
        components[step.name] = dsl.component(
            func,
            base_image=step.options.image or DEFAULT_IMAGE,
            packages_to_install=list(step.packages) or None,
        )

    tasks: dict[str, Any] = {}

    def configure(task: Any, name: str) -> None:
        options = plan.step(name).options
        for upstream in plan.step(name).after:
            task.after(tasks[upstream])
        if options.cpu:
            task.set_cpu_request(options.cpu).set_cpu_limit(options.cpu)
        if options.memory:
            task.set_memory_request(options.memory).set_memory_limit(options.memory)
        if options.gpu:
            task.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(options.gpu)
        if options.retries:
            task.set_retry(num_retries=options.retries)
        if not options.cache:
            task.set_caching_options(False)
        for key, value in options.node_selector:
            kubernetes.add_node_selector(task, label_key=key, label_value=value)
        for tol in options.tolerations:
            kubernetes.add_toleration(
                task, key=tol.key, operator=tol.operator, value=tol.value, effect=tol.effect
            )
        for affinity in options.node_affinity:
            kubernetes.add_node_affinity(task, **affinity.kfp_arguments())
        if options.timeout:
            kubernetes.set_timeout(task, options.timeout)

    tasks_name, components_name, configure_name = _pipeline_names(plan)
    scope: dict[str, Any] = {components_name: components, tasks_name: tasks, configure_name: configure}
    func = _define(_pipeline_function_source(plan), _pipeline_function_name(plan), scope)
    fd, path = tempfile.mkstemp(suffix=".yaml")
    os.close(fd)
    try:
        with _KFP_PIPELINE_LOCK:
            pipeline_func = dsl.pipeline(name=plan.kfp_name, display_name=plan.name)(func)
            compiler.Compiler().compile(pipeline_func, path)
        return Path(path).read_text(encoding="utf-8")
    finally:
        os.unlink(path)

"""Turn a PipelinePlan into kfp components and a pipeline, and compile it with kfp's own compiler.

Each step becomes a lightweight Python component: a function that calls the step runtime with the
setup and cell sources as string literals. It imports the runtime from `jupyter_mlops.step_runtime`,
and the step's pip prelude (kfp's, the one that installs kfp itself) installs `jupyter-mlops` at this
version beside the step's packages: a no-op where that version is installed (this machine, an image
that has it). With `%%pipeline setup --inline-runtime` the runtime functions the step uses sit instead
beside the function in the component's module (kfp's `additional_funcs`, `runtime_source.py`), so the
step runs on a stock python image with only its declared packages, at 15-30 KB more YAML a step.

kfp reads a component's source with `inspect.getsource` (`dsl.component` is the public way to make a
Python component, and it takes a function), so the generated functions are registered in `linecache`
under the filename given to `compile()`. Building the component from a spec instead
(`components.load_component_from_text`) would mean writing kfp's lightweight-component command
ourselves (its pip prelude pinned to kfp's version and the `executor_main` launcher, private kfp code),
and the YAML would no longer be what kfp makes of a component.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import hashlib
import linecache
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._version import __version__
from ..analysis.across_cells import SETUP_CELL
from ..analysis.value_kinds import ARTIFACT
from ..errors import CellError
from .kfp_dag import linear_dags
from .kfp_errors import explain
from .kfp_names import remembered_names
from .kfp_sources import remember, remembered_sources
from .plan import PipelinePlan, StepPlan
from .runtime_source import ENTRY, runtime_source, step_switches
from .step_interface import outputs_record

# Steps run on a stock image of the Python that compiled them, so pickled values load alike.
DEFAULT_IMAGE = f"python:{sys.version_info.major}.{sys.version_info.minor}"
# The one global name the generated component function reads (see step_function_source).
_RUNTIME_FUNCTION = ENTRY
# What a step imports it from, and what the step installs (alone: `--no-deps`) where the image lacks it.
RUNTIME_MODULE = "jupyter_mlops.step_runtime.run"
RUNTIME_REQUIREMENT = f"jupyter-mlops=={__version__}"
# A step's first lines (not inline): the step runtime is standard library only, so an image without
# jupyter-mlops (or with another version) gets the package alone, not its ~110 Jupyter dependencies
# (which kfp's prelude would install). `{r}` and `{b}` are the step's free local names (_argument_names).
_RUNTIME_BOOTSTRAP = """\
    try:
        from jupyter_mlops._version import __version__ as {r}
    except:  # a bare except: no builtin name is read, since an argument may take any name
        {r} = None
    if {r} != {version!r}:  # no jupyter-mlops in this image, or another version: its runtime alone
        import sys as {b}
        import subprocess as {r}
        {r}.run([{b}.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-warn-script-location",
            {requirement!r}], check=True)
        for {r} in [*{b}.modules]:
            if {r}.split(".")[0] == "jupyter_mlops":
                del {b}.modules[{r}]
    from {module} import {entry} as {r}
"""
# kfp keeps the pipeline being built in a process-global (`Pipeline._default_pipeline`): two threads
# building at once fail with "Nested pipelines are not allowed" (the server compiles in threads). Held
# too while kfp's helpers are remembered (kfp_names, kfp_sources), so one build puts back what it replaced.
_KFP_PIPELINE_LOCK = threading.Lock()
_KFP_RESERVED = frozenset({"Output"})  # kfp refuses it as an argument (its name for a single output)


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
    return _step_function(plan, step)[0]


def _step_function(plan: PipelinePlan, step: StepPlan) -> tuple[str, str]:
    """The step function's source, and its first part: its `def` line and docstring."""
    sig: list[str] = []
    inputs: dict[str, tuple[str, str]] = {}
    outputs: dict[str, tuple[str, str]] = {}
    names = _argument_names(plan, step)
    defaults: dict[str, Any] = {}
    optional: list[str] = []  # optional parameters (None unless a run gives them): last, with their default
    for arg, var, kind, _ in input_arguments(plan, step):
        if var in step.params and plan.params[var].default is None:
            optional.append(f"{arg}: Optional[{kind}] = None")
        else:
            sig.append(f"{arg}: Input[Dataset]" if kind == ARTIFACT else f"{arg}: {kind}")
        inputs[arg] = (var, kind)
        if kind in ("list", "dict") and var in step.params and plan.params[var].default is not None:
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
    if step.shows_figures:
        sig.append(f"{names.figures}: Output[Artifact]")
    param_outs = [(v, k) for v, k in step.outputs.items() if k != ARTIFACT]
    for var, kind in param_outs:
        outputs[names.outputs[var]] = (var, kind)
    sig += optional
    returns = ""
    if param_outs:
        fields = ", ".join(f"({names.outputs[v]!r}, {k})" for v, k in param_outs)
        returns = f" -> NamedTuple('Outputs', [{fields}])"
    arg_names = [a.split(":")[0] for a in sig]
    call = {
        "step": step.name,
        "setup": plan.setup,
        "cell": step.source,
        "args": "{" + ", ".join(f"{a!r}: {a}" for a in arg_names) + "}",
        "inputs": inputs,
        "outputs": outputs,
        "result": step.result,
        # keyword arguments only where they differ from _mlops_run_step's defaults
        "cell_lines": _line_runs(step.line_map) if step.line_map else None,
        "setup_lines": _line_runs(plan.setup_line_map) if plan.setup_line_map else [[1, 2]],
        "metrics_arg": names.metrics if names.metrics != "mlops_metrics" else None,
        "logdir_arg": names.logdir if names.logdir != "mlops_logdir" else None,
        "defaults": defaults or None,
        "groups": [[names.outputs[v] for v in sorted(g)] for g in step.groups] or None,
        "figures_arg": names.figures if step.shows_figures else None,
        "carried": [[o, text, _line_runs(lines)] for o, text, lines in step.carried] or None,
        "shared": sorted(step.shared) or None,
        "text_progress": True if step.text_progress else None,
    }
    words = [f"{k}={v if k == 'args' else repr(v)}" for k, v in call.items() if v is not None]
    header = f"def {step.name}({', '.join(sig)}){returns}:\n"
    what = f"Notebook step {step.name!r} of pipeline {plan.name!r} (generated by jupyter-mlops)."
    docstring = f'    """{what}"""\n'
    doc = docstring
    if not plan.inline_runtime:  # a local name: no argument (a variable) can take it (_argument_names)
        doc += _RUNTIME_BOOTSTRAP.format(
            r=names.runner,
            b=names.boot,
            version=__version__,
            requirement=RUNTIME_REQUIREMENT,
            module=RUNTIME_MODULE,
            entry=ENTRY,
        )
    return header + doc + f"    return {names.runner}({', '.join(words)})\n", header + docstring


def step_packages(plan: PipelinePlan, step: StepPlan) -> list[str]:
    """What the step's prelude installs: the step's packages. The step runtime is not among them: kfp's
    prelude would install jupyter-mlops with all its dependencies (~310 MB); the step installs it alone
    where the image lacks it (_RUNTIME_BOOTSTRAP)."""
    return list(step.packages)


def runtime_functions(plan: PipelinePlan, step: StepPlan) -> list[Any]:
    """The runtime functions the step's component module holds beside its function (additional_funcs):
    none unless the runtime is inline (the function imports it)."""
    if not plan.inline_runtime:
        return []
    # The step's name changes the runtime's code only where it is a builtin's (runtime_source): steps
    # with the same switches share one copy, made and compiled once.
    name = step.name if hasattr(builtins, step.name) else ""
    return list(_runtime_functions(step_switches(plan, step), _argument_names(plan, step).runner, name))


@functools.lru_cache(maxsize=256)
def _runtime_functions(on: frozenset[str], entry: str, step_name: str) -> tuple[Any, ...]:
    source, names = runtime_source(on, entry, step_name)
    namespace: dict[str, Any] = {}
    _define(source, entry, namespace)
    return tuple(namespace[n] for n in names)


@dataclass(frozen=True)
class _Names:
    """The component's argument names that are not simply a variable's name, chosen free of them all."""

    outputs: dict[str, str]  # output variable -> its output's name (an argument, or a returned field)
    metrics: str
    logdir: str
    runner: str
    figures: str
    boot: str  # a second local name for the runtime's bootstrap (_RUNTIME_BOOTSTRAP)


def _output_name(var: str, taken: set[str]) -> str:
    # A returned field (a NamedTuple's) cannot start with "_"; kfp reserves "Output".
    if var.startswith("_"):
        return _free_name("out" + var, taken, "_out")
    return _free_name(var, taken, "_out") if var in _KFP_RESERVED else var


def _argument_names(plan: PipelinePlan, step: StepPlan) -> _Names:
    key = ("argument names", id(step))
    kept = plan.derived.get(key)
    if kept is None or kept[0] is not step:  # (the step held: its id is not reused meanwhile)
        kept = plan.derived[key] = (step, _names_of(step))
    names: _Names = kept[1]
    return names


def _names_of(step: StepPlan) -> _Names:
    variables = set(step.outputs) | set(step.inputs) | set(step.params)
    taken = variables | {"result"} | _KFP_RESERVED
    metrics = _free_name("mlops_metrics", taken)
    logdir = _free_name("mlops_logdir", taken)
    runner = _free_name(_RUNTIME_FUNCTION, taken)
    figures = _free_name("mlops_figures", taken)
    boot = _free_name("_mlops_boot", taken)
    outputs = {v: _output_name(v, taken) for v in sorted(step.outputs)}
    return _Names(outputs=outputs, metrics=metrics, logdir=logdir, runner=runner, figures=figures, boot=boot)


def _define(source: str, name: str, namespace: dict[str, Any], interface: str | None = None) -> Any:
    """The function `name` that `source` defines, its text registered in linecache for inspect (and
    kfp) to read. `interface`: the start of `source`, its `def` line and docstring, compiled alone: a
    function that kfp only reads (signature, name, and its text from linecache: all of `source`) and
    never calls, made without compiling its body (step_interface.py)."""
    filename = f"<jupyter-mlops {name} {hashlib.sha256(source.encode()).hexdigest()[:12]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    # dont_inherit: this module's `from __future__ import annotations` must not turn the
    # generated annotations into strings, which kfp cannot read as types.
    exec(compile(source if interface is None else interface, filename, "exec", dont_inherit=True), namespace)
    remember(namespace[name], source)  # kfp then need not tokenize it back (kfp_sources.py)
    return namespace[name]


def _pipeline_function_name(plan: PipelinePlan) -> str:
    return "pipeline_" + plan.kfp_name.replace("-", "_")


def _builder_name(plan: PipelinePlan) -> str:
    """The name the pipeline function calls to make its tasks, free of its parameters'."""
    return _free_name("build", set(plan.params) | {_pipeline_function_name(plan)})


def _pipeline_function_source(plan: PipelinePlan) -> str:
    """The pipeline function kfp runs: the pipeline's parameters (what kfp reads of it), handed to the
    builder, which makes every step's task from the plan (not a generated statement per step)."""
    sig = ", ".join(p.signature for p in plan.params.values())
    values = ", ".join(f"{name!r}: {name}" for name in plan.params)
    return f"def {_pipeline_function_name(plan)}({sig}):\n    {_builder_name(plan)}({{{values}}})\n"


def input_arguments(plan: PipelinePlan, step: StepPlan) -> list[tuple[str, str, str, tuple[str | None, str]]]:
    """(component argument, variable, kind, what feeds it) for each input of a step: (None, the
    pipeline parameter) or (the producing step, its output's name).

    An argument is the variable's own name unless an output or a name the component needs takes it
    (`x` both read and written by a step: the input becomes `x_in`).
    """
    names = _argument_names(plan, step)
    artifact_outputs = [v for v, k in step.outputs.items() if k == ARTIFACT]
    taken = {*artifact_outputs, *(names.outputs[v] for v in artifact_outputs)}
    taken |= {names.metrics, names.logdir, names.runner, names.figures, names.boot}
    taken |= ({"result"} if step.result else set()) | _KFP_RESERVED
    out: list[tuple[str, str, str, tuple[str | None, str]]] = [
        (_free_name(v, taken), v, plan.params[v].type, (None, v)) for v in step.params
    ]
    for var, (producer, kind) in sorted(step.inputs.items()):
        key = _argument_names(plan, plan.step(producer)).outputs[var]
        out.append((_free_name(var, taken), var, kind, (producer, key)))
    return out


def _build_pipeline(plan: PipelinePlan, *, remember_names: bool = True) -> Any:
    """The kfp pipeline (a GraphComponent) of the plan, its IR built by kfp (with kfp's name cleaning and
    source reading remembered, `kfp_names` and `kfp_sources`, and its DAG of tasks built in linear time,
    `kfp_dag`, unless `remember_names` is False: the same IR, kfp's way, slower)."""
    for name in sorted(plan.params):
        if name in _KFP_RESERVED or not name[:1].isalpha():
            why = "reserves that name" if name in _KFP_RESERVED else "needs its names to begin with a letter"
            raise CellError(
                f"a pipeline parameter cannot be called {name!r}: Kubeflow Pipelines {why}. "
                "Rename it in the params cell and where the steps read it.",
                cell=SETUP_CELL.replace("setup", "params"),
            )
    from kfp import dsl, kubernetes
    from kfp.dsl import Artifact, Dataset, Input, Metrics, Output

    namespace: dict[str, Any] = {
        "Input": Input,
        "Output": Output,
        "Dataset": Dataset,
        "Metrics": Metrics,
        "Artifact": Artifact,
        "NamedTuple": __import__("typing").NamedTuple,
        "Optional": __import__("typing").Optional,
    }
    components: dict[str, Any] = {}
    with _KFP_PIPELINE_LOCK, remembered_sources() if remember_names else contextlib.nullcontext():
        for step in plan.steps:
            source, interface = _step_function(plan, step)
            if remember_names:  # only what kfp reads: no class for its outputs, no docstring (step_interface)
                func = _define(source, step.name, dict(namespace, NamedTuple=outputs_record), interface)
                func.__doc__ = None
            else:  # kfp's own way (to compare with): the function as it runs
                func = _define(source, step.name, dict(namespace))
            components[step.name] = dsl.component(
                func,
                base_image=step.options.image or DEFAULT_IMAGE,
                packages_to_install=step_packages(plan, step) or None,
                additional_funcs=runtime_functions(plan, step) or None,
            )

    tasks: dict[str, Any] = {}

    def configure(task: Any, name: str) -> None:
        options = plan.step(name).options
        task.set_display_name(name)  # the step's name as the user wrote it; the task key is kfp's
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

    def build(params: dict[str, Any]) -> None:
        for step in plan.steps:  # the steps in the plan's order, their arguments in input_arguments'
            arguments = {
                arg: params[name] if producer is None else tasks[producer].outputs[name]
                for arg, _, _, (producer, name) in input_arguments(plan, step)
            }
            tasks[step.name] = components[step.name](**arguments)
            configure(tasks[step.name], step.name)

    scope: dict[str, Any] = {_builder_name(plan): build}
    scope.setdefault("Optional", __import__("typing").Optional)
    func = _define(_pipeline_function_source(plan), _pipeline_function_name(plan), scope)
    with (
        _KFP_PIPELINE_LOCK,
        remembered_names() if remember_names else contextlib.nullcontext(),
        linear_dags() if remember_names else contextlib.nullcontext(),
    ):
        return dsl.pipeline(name=plan.kfp_name, display_name=plan.name)(func)


def build_documents(plan: PipelinePlan) -> list[dict[str, Any]]:
    """The compiled IR as kfp holds it, as dicts (what loading kfp's YAML gives): the PipelineSpec,
    then the platform spec if any step has Kubernetes settings. No YAML is written or read."""
    try:
        pipeline = _build_pipeline(plan)
    except (ValueError, TypeError) as exc:  # kfp refused something: one line naming the cell
        raise explain(exc, plan) from exc
    return kfp_documents(pipeline)


def kfp_documents(pipeline: Any) -> list[dict[str, Any]]:
    """A kfp pipeline's (or component's) IR as the dicts its YAML loads as, in the same key order:
    kfp writes the YAML with sorted keys (task and step order follow from it). `message_dict` is
    json_format's MessageToDict with the keys sorted, in one walk (ir_dicts.py)."""
    from .ir_dicts import message_dict

    documents = [message_dict(pipeline.pipeline_spec)]
    if pipeline.platform_spec.platforms:
        documents.append(message_dict(pipeline.platform_spec))
    return documents


def build_yaml(plan: PipelinePlan) -> str:
    """kfp's own YAML of the plan (written by kfp's compiler): what `compile` shows and saves."""
    from kfp import compiler

    fd, path = tempfile.mkstemp(suffix=".yaml")
    os.close(fd)
    try:
        compiler.Compiler().compile(_build_pipeline(plan), path)
        return Path(path).read_text(encoding="utf-8")
    except (ValueError, TypeError) as exc:  # kfp refused something: one line naming the cell
        raise explain(exc, plan) from exc
    finally:
        os.unlink(path)

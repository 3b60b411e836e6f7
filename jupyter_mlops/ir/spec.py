"""Read compiled KFP IR (the PipelineSpec document and the optional `platforms: kubernetes:` document).

Only plain dicts from `yaml.safe_load_all` are read; kfp is never imported here, so the engine that
schedules steps stays light and starts fast.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import PipelineError
from .shape import check_shape

Json = dict[str, Any]

# pip options of kfp's install prelude that take a value (the rest of the words are requirements)
_PIP_VALUE_OPTIONS = frozenset({"--index-url", "-i", "--extra-index-url", "--trusted-host", "--find-links"})
_PIP_INSTALL = re.compile(r"pip install (.*?)(?:&&|$)", re.MULTILINE)


@dataclass(frozen=True)
class PythonStep:
    """What it takes to run one lightweight Python component's executor locally."""

    executor_label: str
    source: str  # the component module kfp embeds in `container.command`
    function: str  # --function_to_execute
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]
    requirements: tuple[str, ...]  # packages the prelude installs (kfp's own pin included)
    pip_options: tuple[str, ...]  # --index-url and friends, passed on to a venv install
    env: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=256)  # the tasks of a pipeline mostly share one prelude: shlex is slow
def parse_prelude(script: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(requirements, pip options) from kfp's `pip install ... && "$0" "$@"` prelude script."""
    requirements: list[str] = []
    options: list[str] = []
    for m in _PIP_INSTALL.finditer(script):
        words = shlex.split(m.group(1))
        i = 0
        while i < len(words):
            w = words[i]
            if w in _PIP_VALUE_OPTIONS and i + 1 < len(words):
                options += [w, words[i + 1]]
                i += 2
                continue
            if w.startswith("-"):
                if w.startswith(("--index-url=", "--extra-index-url=", "--trusted-host=")):
                    options.append(w)
            elif w not in requirements:
                requirements.append(w)
            i += 1
    return tuple(requirements), tuple(dict.fromkeys(options))


class PipelineIR:
    """The compiled pipeline: its components, executors, root DAG and per-executor timeouts."""

    def __init__(self, documents: Sequence[Mapping[str, Any]]) -> None:
        pipeline: Mapping[str, Any] | None = None
        platform: Mapping[str, Any] = {}
        for doc in documents:
            if not isinstance(doc, Mapping):
                continue
            if "pipelineSpec" in doc:  # a PipelineJob JSON
                pipeline = doc["pipelineSpec"]
                if not isinstance(pipeline, Mapping):
                    raise PipelineError(
                        f"the pipeline spec's 'pipelineSpec' must be a mapping, got {pipeline!r:.80}"
                    )
            elif "root" in doc:
                pipeline = doc
            elif "platforms" in doc:
                platforms = doc["platforms"]
                if not isinstance(platforms, Mapping):
                    raise PipelineError(
                        f"the pipeline spec's 'platforms' must be a mapping, got {platforms!r:.80}"
                    )
                platform = platforms.get("kubernetes", {}) or {}
        if pipeline is None:
            raise PipelineError(
                "the pipeline file holds no PipelineSpec (no document with a 'root' DAG); "
                "compile it with kfp.compiler.Compiler().compile(...)"
            )
        check_shape(pipeline)
        self.spec: Mapping[str, Any] = pipeline
        self.name: str = str(pipeline.get("pipelineInfo", {}).get("name", "pipeline"))
        self.components: Mapping[str, Json] = pipeline.get("components", {}) or {}
        self.executors: Mapping[str, Json] = (pipeline.get("deploymentSpec", {}) or {}).get(
            "executors", {}
        ) or {}
        self.root: Json = dict(pipeline["root"])
        self._python_steps: dict[str, PythonStep] = {}  # executor label -> what python_step made of it
        # (steps, edges) known before the run, once graph.plan_of has walked the DAG
        self.static_plan: tuple[list[str], list[tuple[str, str]]] | None = None
        self._platform_executors: Mapping[str, Json] = (platform.get("deploymentSpec", {}) or {}).get(
            "executors", {}
        ) or {}

    # -- components -------------------------------------------------------------------------------

    def component(self, task_name: str, task: Mapping[str, Any]) -> tuple[str, Json]:
        ref = str(task.get("componentRef", {}).get("name", ""))
        if ref not in self.components:
            raise PipelineError(f"task {task_name!r} refers to the unknown component {ref!r}")
        return ref, self.components[ref]

    @staticmethod
    def is_dag(component: Mapping[str, Any]) -> bool:
        return "dag" in component

    def executor(self, task_name: str, component: Mapping[str, Any]) -> tuple[str, Json]:
        label = str(component.get("executorLabel", ""))
        spec = self.executors.get(label)
        if spec is None:
            raise PipelineError(f"task {task_name!r}: no executor {label!r} in deploymentSpec.executors")
        return label, spec

    def is_importer(self, task_name: str, component: Mapping[str, Any]) -> bool:
        return "importer" in self.executor(task_name, component)[1]

    def python_step(self, task_name: str, component: Mapping[str, Any]) -> PythonStep:
        """The lightweight Python component behind a task, or a clear error for anything else."""
        label, spec = self.executor(task_name, component)
        known = self._python_steps.get(label)
        if known is not None:  # the tasks of one component (a chain, a loop) share its executor
            return known
        step = self._python_step(task_name, label, spec)
        self._python_steps[label] = step
        return step

    def _python_step(self, task_name: str, label: str, spec: Json) -> PythonStep:
        container = spec.get("container")
        if not isinstance(container, Mapping):
            raise PipelineError(f"task {task_name!r}: executor {label!r} is not a container step")
        command = [str(c) for c in container.get("command", [])]
        args = [str(a) for a in container.get("args", [])]
        script = next((c for c in command if "kfp.dsl.executor_main" in c), None)
        if script is None or "--component_module_path" not in script or "--function_to_execute" not in args:
            raise PipelineError(
                f"task {task_name!r} runs the container image {container.get('image')!r} with its own "
                "command; the local backend runs lightweight Python components (@dsl.component) only. "
                "Run this pipeline on a Kubeflow cluster instead."
            )
        source = command[-1]
        function = args[args.index("--function_to_execute") + 1]
        prelude = command[2] if len(command) > 2 and command[:2] == ["sh", "-c"] else ""
        requirements, pip_options = parse_prelude(prelude) if "pip install" in prelude else ((), ())
        env = {str(e["name"]): str(e.get("value", "")) for e in container.get("env", []) or []}
        return PythonStep(
            executor_label=label,
            source=source,
            function=function,
            image=str(container.get("image", "")),
            command=tuple(command),
            args=tuple(args),
            requirements=requirements,
            pip_options=pip_options,
            env=env,
        )

    def importer(self, task_name: str, component: Mapping[str, Any]) -> Json:
        return dict(self.executor(task_name, component)[1]["importer"])

    def timeout(self, executor_label: str) -> float | None:
        """kfp.kubernetes.set_timeout's `activeDeadlineSeconds` for an executor, if any."""
        value = self._platform_executors.get(executor_label, {}).get("activeDeadlineSeconds")
        if value in (None, "", 0, "0"):
            return None
        try:
            return float(value)
        except (TypeError, ValueError) as e:
            raise PipelineError(f"executor {executor_label!r}: bad activeDeadlineSeconds {value!r}") from e


def task_dependencies(task: Mapping[str, Any]) -> list[str]:
    """Sibling tasks this task waits for: `dependentTasks` plus every producer of its inputs."""
    deps = [str(d) for d in task.get("dependentTasks", []) or []]
    inputs = task.get("inputs", {}) or {}
    for section, key in (("parameters", "taskOutputParameter"), ("artifacts", "taskOutputArtifact")):
        for spec in (inputs.get(section, {}) or {}).values():
            producer = (spec.get(key) or {}).get("producerTask")
            if producer:
                deps.append(str(producer))
    for spec in (inputs.get("parameters", {}) or {}).values():
        producer = (spec.get("taskFinalStatus") or {}).get("producerTask")
        if producer:
            deps.append(str(producer))
    return list(dict.fromkeys(deps))

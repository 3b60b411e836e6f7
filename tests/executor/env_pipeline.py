"""Run by another environment's python (`python env_pipeline.py DIR`, this checkout on PYTHONPATH): compile
a pipeline whose step asks for packages the environment lacks, execute it with the engine as the local
runner would there, and print what the step saw as JSON."""

import json
import sys
import threading
from pathlib import Path
from typing import Any

from kfp import compiler, dsl

from jupyter_mlops.executor import ExecutionOptions, execute
from jupyter_mlops.models import ArtifactInfo, MetricPoint, StepInfo


@dsl.component(base_image="python:3.11", packages_to_install=["tomli-w==1.2.0", "inflection==0.5.1"])
def probe() -> str:
    import json
    import sys
    from importlib import metadata

    import inflection  # asked for, in no environment: installed into the step's venv
    import kfp  # the environment's (the step's venv does not install it again)
    import tomli_w  # 1.2.0 asked for, 1.0.0 in the environment: the step's wins
    import toposort  # only in the environment, not in its base

    return json.dumps(
        {
            "prefix": sys.prefix,
            "inflection": inflection.__file__,
            "kfp": kfp.__file__,
            "tomli_w": [tomli_w.__file__, metadata.version("tomli-w")],
            "toposort": toposort.__file__,
        }
    )


@dsl.pipeline
def environment_probe() -> None:
    probe()


class Listener:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.steps: dict[str, StepInfo] = {}

    def on_step(self, step: StepInfo) -> None:
        self.steps[step.name] = step

    def on_artifact(self, artifact: ArtifactInfo) -> None:
        pass

    def on_metric(self, metric: MetricPoint) -> None:
        pass

    def log_path(self, step: str) -> Path:
        return self.root / "logs" / f"{step}.log"


def main(root: Path) -> None:
    import yaml

    compiler.Compiler().compile(environment_probe, str(root / "pipeline.yaml"))
    spec = list(yaml.safe_load_all((root / "pipeline.yaml").read_text()))
    listener = Listener(root / "run")
    state, error = execute(
        spec,
        {},
        ExecutionOptions(workdir=root / "run", cache_dir=root / "cache", run_id="env"),
        listener,
        threading.Event(),
    )
    step = listener.steps.get("probe")
    log = listener.log_path("probe")
    result: dict[str, Any] = {
        "state": state.value,
        "error": error,
        "python": sys.executable,
        "output": json.loads(step.outputs["Output"]) if step and "Output" in step.outputs else None,
        "log": log.read_text(errors="replace") if log.exists() else "",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]))

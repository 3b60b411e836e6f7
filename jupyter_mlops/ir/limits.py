"""Limits on what one run may be, so a small file cannot make a huge run (issue 12, item 4).

A 583-byte YAML of nested aliases expands to millions of values; a 5.8 KB file of nested static loops
plans 90,000 steps. Each limit is checked as early as it can be (the request body before it is parsed,
the YAML's expansion before anything walks it, the step count while the plan is made) and its error
names the limit and what to do.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import PipelineError, UsageError

MAX_REQUEST_BYTES = 32 * 1024 * 1024  # a POSTed run (the demo's compiled YAML is ~0.25 MB)
MAX_YAML_VALUES = 1_000_000  # values in the pipeline YAML once its aliases are expanded
MAX_STEPS = 2_000  # steps of one run (loop iterations and sub-DAG tasks included); its view draws in < 1 s
MAX_PARAMETERS_BYTES = 1024 * 1024  # a run's parameter values, as JSON


def check_expansion(documents: Any, where: str = "the pipeline YAML") -> None:
    """PipelineError if `documents` (as `yaml.safe_load_all` gave them: aliases are shared objects)
    hold more than MAX_YAML_VALUES values once every alias is counted as often as it is used."""
    seen = 0
    stack = [documents]
    while stack:
        value = stack.pop()
        seen += 1
        if seen > MAX_YAML_VALUES:
            raise PipelineError(
                f"{where} expands to more than {MAX_YAML_VALUES:,} values (YAML aliases repeat their "
                "anchors); the limit is MAX_YAML_VALUES. Compile the pipeline with kfp, which writes no "
                "aliases"
            )
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)


def check_step_count(count: int) -> None:
    if count > MAX_STEPS:
        raise PipelineError(
            f"the pipeline has more than {MAX_STEPS:,} steps (loops multiply the steps inside them); the "
            "limit is MAX_STEPS. Loop over fewer items, or split the work into several runs"
        )


def check_parameters(values: dict[str, Any]) -> None:
    size = len(json.dumps(values, default=str, allow_nan=True))
    if size > MAX_PARAMETERS_BYTES:
        raise UsageError(
            f"the run's parameter values take {size:,} bytes as JSON; the limit is "
            f"{MAX_PARAMETERS_BYTES:,} (MAX_PARAMETERS_BYTES). Pass large data as a file or an artifact"
        )

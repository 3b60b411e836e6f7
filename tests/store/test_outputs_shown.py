"""How `run.outputs[step]` shows itself (`print(run.outputs)`, a cell's last line): a number, bool or short
string as its value, anything else by its type and shape; no value file is read to show it. Metadata
here is what `step_runtime` writes, taken from real runs."""

from __future__ import annotations

from typing import Any

from jupyter_mlops.models import ArtifactInfo, StepInfo
from jupyter_mlops.store.run_values import StepOutputs


def outputs(**metas: dict[str, Any]) -> StepOutputs:
    step = StepInfo("evaluate", outputs={name: f"/nowhere/{name}" for name in metas})
    artifacts = [
        ArtifactInfo("r", "evaluate", name, f"/nowhere/{name}", "system.Dataset", meta)
        for name, meta in metas.items()
    ]
    return StepOutputs("r", step, artifacts)


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "text", "text": value, **extra}


def test_small_values_are_shown_as_themselves_without_reading_a_file() -> None:
    shown = outputs(
        acc={"format": "json", "type": "float", "preview": text("0.9733333333333334")},
        n={"format": "json", "type": "int", "preview": text("300")},
        ok={"format": "json", "type": "bool", "preview": text("True")},
        label={"format": "json", "type": "str", "preview": text("it's done", length=9)},
    )
    assert repr(shown) == "{'acc': 0.9733333333333334, 'n': 300, 'ok': True, 'label': \"it's done\"}"


def test_other_values_are_shown_by_their_kind_and_shape() -> None:
    long = "x" * 999 + "\u2026"
    shown = outputs(
        x={"format": "npy", "type": "numpy.ndarray", "shape": [75, 3], "dtype": "float64"},
        features={"format": "json", "type": "list", "preview": text("['a', 'b', 'c']")},
        notes={"format": "json", "type": "str", "preview": text(long, length=5000)},
        model={"format": "pickle", "type": "sklearn.pipeline.Pipeline", "preview": text("Pipeline(...)")},
    )
    assert repr(shown) == (
        "{'x': <numpy.ndarray (75, 3) float64>, 'features': <list>, 'notes': <str>, "
        "'model': <sklearn.pipeline.Pipeline>}"
    )


def test_asking_for_a_step_without_values_says_why() -> None:
    import pytest

    from jupyter_mlops.models import StepState
    from jupyter_mlops.store.run_values import step_outputs

    steps = [
        StepInfo("evaluate", StepState.SUCCEEDED, outputs={"acc": "/nowhere/acc"}),
        StepInfo("report", StepState.SUCCEEDED),  # printed only
        StepInfo("plot", StepState.RUNNING),
        StepInfo("upload", StepState.FAILED, error="ValueError: no bucket"),
    ]
    meta = {"format": "json", "type": "float", "preview": text("0.5")}
    outputs = step_outputs(
        "r1", steps, [ArtifactInfo("r1", "evaluate", "acc", "/nowhere/acc", "system.Dataset", meta)]
    )
    assert repr(outputs["evaluate"]) == "{'acc': 0.5}"
    for step, said in [
        ("report", "step 'report' of run r1 kept no values: a step keeps the values that later steps read"),
        ("plot", "step 'plot' of run r1 is RUNNING: its values are here once it has succeeded"),
        ("upload", "step 'upload' of run r1 FAILED (ValueError: no bucket): it stored no values"),
        ("evaluat", "run r1 has no step 'evaluat' (its steps: evaluate, report, plot, upload)"),
    ]:
        with pytest.raises(KeyError) as raised:
            outputs[step]
        assert str(raised.value).startswith(said), str(raised.value)
    assert "report" not in outputs and outputs.get("report") is None  # a mapping as before

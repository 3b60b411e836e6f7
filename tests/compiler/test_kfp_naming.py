"""kfp's task naming in linear time (jupyter_mlops/kfp_naming.py): the same names as kfp's own functions,
the same IR byte for byte, in place whether kfp is imported before or after jupyter_mlops."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_mlops import kfp_naming

# Pipelines whose tasks kfp must rename: many tasks of one component, names that need sanitizing,
# groups (loops, conditions, an exit handler), a pipeline used as a component, display names.
PIPELINES = textwrap.dedent(
    """
    import sys
    IMPORT_FIRST = sys.argv[2]
    if IMPORT_FIRST == "mlops":
        import jupyter_mlops
    from kfp import compiler, dsl
    if IMPORT_FIRST == "kfp":
        import jupyter_mlops
    from kfp.dsl import utils
    print(type(utils.maybe_rename_for_k8s).__name__, utils.maybe_rename_for_k8s.__module__)

    @dsl.component(base_image="python:3.11")
    def Train_Model__v2(x: int) -> int:
        return x + 1

    @dsl.component(base_image="python:3.11")
    def add(a: int, b: int) -> int:
        return a + b

    @dsl.component(base_image="python:3.11")
    def cleanup() -> None:
        print("bye")

    @dsl.pipeline(name="inner")
    def inner(x: int) -> int:
        first = Train_Model__v2(x=x)
        return Train_Model__v2(x=first.output).output

    @dsl.pipeline(name="Many Same--Tasks")
    def many(x: int = 1) -> None:
        with dsl.ExitHandler(cleanup()):
            task = Train_Model__v2(x=x)
            for i in range(40):
                task = Train_Model__v2(x=task.output)
                if i % 7 == 0:
                    task.set_display_name(f"step {i}")
            with dsl.ParallelFor([1, 2, 3]) as item:
                looped = add(a=task.output, b=item)
                again = Train_Model__v2(x=looped.output)
            with dsl.If(task.output > 5):
                branch = inner(x=task.output)
                Train_Model__v2(x=branch.output)
            nested = inner(x=x)
            twice = inner(x=nested.output)
            add(a=twice.output, b=1)

    compiler.Compiler().compile(many, sys.argv[1])
    """
)


def _compile(tmp_path: Path, tag: str, *, first: str, naming: str | None) -> tuple[bytes, str]:
    script = tmp_path / "pipelines.py"
    script.write_text(PIPELINES)
    out = tmp_path / f"{tag}.yaml"
    env = {k: v for k, v in os.environ.items() if k != kfp_naming.SWITCH_ENV}
    if naming is not None:
        env[kfp_naming.SWITCH_ENV] = naming
    done = subprocess.run(
        [sys.executable, str(script), str(out), first], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return out.read_bytes(), done.stdout.strip()


def test_the_ir_is_kfps_own_byte_for_byte_whichever_is_imported_first(tmp_path: Path) -> None:
    theirs, which = _compile(tmp_path, "kfp-own", first="mlops", naming="kfp")
    assert which == "function kfp.dsl.utils"  # the switch left kfp's own functions in place
    for first in ("mlops", "kfp"):
        ours, which = _compile(tmp_path, f"ours-{first}", first=first, naming=None)
        assert which == "function jupyter_mlops.kfp_naming"
        assert ours == theirs
    assert b"train-model-v2-41" in theirs  # the pipeline did make kfp number its tasks


names = st.text(alphabet="aB-_2 .x", max_size=6)


@settings(max_examples=300, deadline=None)
@given(name=names, taken=st.lists(names, max_size=12), numbered=st.lists(st.integers(2, 9), max_size=6))
def test_a_unique_name_is_the_one_kfp_finds(name: str, taken: list[str], numbered: list[int]) -> None:
    from kfp.dsl import utils

    name_of = "make_name_unique_by_adding_index"
    original = kfp_naming._originals.get(name_of, getattr(utils, name_of))
    fast = kfp_naming._fast_unique(original)
    collection = taken + [f"{name}-{i}" for i in numbered] + ([name] if numbered else [])
    for delimiter in ("-", "_"):
        assert fast(name, collection, delimiter) == original(name, collection, delimiter)
        keys = dict.fromkeys(collection).keys()  # kfp passes lists; any collection works alike
        assert fast(name, keys, delimiter) == original(name, collection, delimiter)


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=20))
def test_a_sanitized_name_is_the_one_kfp_makes(name: str) -> None:
    from kfp.dsl import utils

    original = kfp_naming._originals.get("maybe_rename_for_k8s", utils.maybe_rename_for_k8s)
    fast = kfp_naming._fast_rename(original)
    assert fast(name) == original(name)
    assert fast(name) == original(name)  # remembered

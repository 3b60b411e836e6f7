"""Whatever the user hands to `mlops.run` or a backend's `submit`, as compiled KFP IR documents.

Accepted: a `@kfp.dsl.pipeline` function (compiled here, so kfp is imported only on this path), a path
to a compiled YAML file, YAML text, the parsed documents, a notebook `Pipeline` (compiled by
`jupyter_mlops.compiler`), or any object with a `compile_documents()` method. The result is what
`yaml.safe_load_all` gives for a compiled file: the PipelineSpec document, optionally followed by the
`platforms: kubernetes:` document.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..compiler import compile_documents as compile_notebook
from ..errors import PipelineError, UsageError
from ..notebook.pipeline import Pipeline
from .graph import plan_of
from .kept_documents import Kept, write_documents
from .limits import check_expansion, check_parameters
from .spec import PipelineIR
from .values import Artifact, pipeline_arguments

Documents = list[dict[str, Any]]


def documents_from_yaml(text: str, *, where: str = "the pipeline YAML") -> Documents:
    import yaml

    # libyaml's loader where PyYAML was built with it: ~9x faster than the pure-Python one
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
    except yaml.YAMLError as exc:
        raise PipelineError(f"{where} is not valid YAML: {exc}") from exc
    check_expansion(docs, where)
    return _checked(docs, where)


def write_spec(
    documents: Documents, directory: Path, text: str | None = None, kept: Kept | None = None
) -> tuple[Path, str | None]:
    """Keep a run's IR in `directory`: the text it came as (pipeline.yaml), or else the documents as
    JSON (pipeline.json: no YAML dump and load between compiling and running; `kept`: equal documents
    a recent run wrote, whose file is linked). The file, and the JSON text if it was written now
    (handed to the runner as it is)."""
    if text is not None:
        path = directory / "pipeline.yaml"
        path.write_text(text, encoding="utf-8")
        return path, None
    path = directory / "pipeline.json"
    return path, write_documents(documents, path, kept)  # (the same documents as a recent run: a link)


def read_spec(path: Path) -> Documents:
    """The IR documents `write_spec` kept (or a pipeline.yaml of an earlier version)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return _checked(json.loads(text), str(path))
    return documents_from_yaml(text, where=str(path))


class _CheckedDocuments(list[dict[str, Any]]):
    """Documents this module made and checked: handed on (mlops.run -> submit), not walked again."""


def _checked(docs: Sequence[Any], where: str) -> Documents:
    if not docs or not all(isinstance(d, Mapping) for d in docs):
        raise PipelineError(f"{where} holds no compiled pipeline (expected YAML mappings)")
    if not any("root" in d or "pipelineSpec" in d for d in docs):
        raise PipelineError(
            f"{where} is not compiled KFP pipeline IR (no document has a 'root' DAG); compile it with "
            "kfp.compiler.Compiler().compile(...) or `jupyter-mlops compile`"
        )
    return _CheckedDocuments(dict(d) for d in docs)


def spec_documents(spec: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str) -> Documents:
    """A backend's `pipeline_spec` argument (YAML text, one document, or the list of documents)."""
    if isinstance(spec, str):
        return documents_from_yaml(spec)
    if isinstance(spec, _CheckedDocuments):
        return spec  # checked where it was made (load_pipeline); its size was counted there
    check_expansion(spec, "the pipeline spec")
    if isinstance(spec, Mapping):
        return _checked([spec], "the pipeline spec")
    return _checked(list(spec), "the pipeline spec")


def _is_kfp_pipeline(obj: Any) -> bool:
    # Checked by type name first so a plain function never triggers a (slow) kfp import.
    names = {cls.__name__ for cls in type(obj).__mro__}
    return bool(names & {"GraphComponent", "BaseComponent", "PythonComponent", "YamlComponent"})


def _compile_kfp(pipeline: Any) -> Documents:
    """The IR kfp built for a pipeline (or component) object, as the dicts its YAML would load as."""
    from ..compiler.kfp_ir import kfp_documents

    return _checked(kfp_documents(pipeline), f"the compiled {getattr(pipeline, 'name', 'pipeline')}")


def load_pipeline(pipeline: Any) -> Documents:
    """The compiled IR documents of anything `mlops.run` accepts; a clear UsageError otherwise."""
    if isinstance(pipeline, Pipeline):
        return _checked(compile_notebook(pipeline), "the notebook pipeline")
    compile_documents = getattr(pipeline, "compile_documents", None)
    if callable(compile_documents):
        return _checked(list(compile_documents()), f"{type(pipeline).__name__}.compile_documents()")
    if isinstance(pipeline, (str, os.PathLike)):
        path = Path(pipeline)
        text = str(pipeline)
        if isinstance(pipeline, str) and "\n" in text and ("root:" in text or "pipelineSpec" in text):
            return documents_from_yaml(text)
        if not path.is_file():
            raise UsageError(
                f"no pipeline file {path} (give a notebook .ipynb, a compiled KFP YAML file, or a pipeline "
                "function)"
            )
        return documents_from_yaml(path.read_text(), where=str(path))
    if isinstance(pipeline, Mapping) or (isinstance(pipeline, list) and pipeline):
        return spec_documents(pipeline)
    if _is_kfp_pipeline(pipeline):
        return _compile_kfp(pipeline)
    raise UsageError(
        f"cannot run {pipeline!r}: give a @kfp.dsl.pipeline function, a path to a compiled pipeline "
        "YAML file, or a notebook Pipeline"
    )


def pipeline_name(documents: Sequence[Mapping[str, Any]]) -> str:
    for doc in documents:
        spec = doc.get("pipelineSpec", doc)
        if isinstance(spec, Mapping) and "root" in spec:
            return str((spec.get("pipelineInfo") or {}).get("name", "pipeline"))
    return "pipeline"


def bind_arguments(
    documents: Sequence[Mapping[str, Any]],
    arguments: Mapping[str, Any] | None,
    *,
    ir: PipelineIR | None = None,
) -> dict[str, Any]:
    """The run's parameter values: the pipeline's defaults overridden by `arguments`, typed.

    Unknown names and missing required parameters are a UsageError naming them, before anything runs.
    """
    ir = ir or PipelineIR(documents)  # `ir`: these documents, read already
    plan_of(ir)  # every task and nested DAG resolves (the same walk the run view draws from)
    values = pipeline_arguments(ir.root, dict(arguments or {}))
    bound = {k: v.uri if isinstance(v, Artifact) else v for k, v in values.items()}
    check_parameters(bound)
    return bound

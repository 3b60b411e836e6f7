"""Task names from a pipeline file map to unique folders inside the run's folder (issue 12, item 14):
two names that read alike once made safe for a file system (`make step`, `make_step`) get a log, a
temporary folder and artifacts each; a name like `../../../../victim` writes nothing outside the run.
(A pipeline file is code that runs as the user anyway; this is defence in depth.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from backends.contract import explain, finished

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import RunState


def renamed(spec: str, names: dict[str, str]) -> str:
    """The compiled pipeline with its root tasks renamed (and the references to them)."""
    doc = yaml.safe_load(spec)
    tasks = doc["root"]["dag"]["tasks"]
    doc["root"]["dag"]["tasks"] = {names.get(k, k): v for k, v in tasks.items()}
    rename_references(doc["root"], names)
    return yaml.safe_dump(doc, sort_keys=False)


def rename_references(node: Any, names: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("producerTask", "producerSubtask") and isinstance(value, str):
                node[key] = names.get(value, value)
            elif key == "dependentTasks":
                node[key] = [names.get(d, d) for d in value]
            else:
                rename_references(value, names)
    elif isinstance(node, list):
        for item in node:
            rename_references(item, names)


def files_outside(root: Path, inside: Path) -> list[Path]:
    return [p for p in root.rglob("*") if not p.is_relative_to(inside)]


def test_names_alike_once_made_safe_get_a_log_each(home: Path, specs: dict[str, str]) -> None:
    backend = LocalBackend(home)
    spec = renamed(specs["arith"], {"add": "make step", "add-2": "make_step"})
    run = finished(backend, backend.submit(spec).id)
    assert run.state is RunState.SUCCEEDED, explain(run)
    first, second = backend.logs(run.id, "make step").text, backend.logs(run.id, "make_step").text
    assert "adding 1 and 2" in first and "adding 3 and 10" not in first
    assert "adding 3 and 10" in second and "adding 1 and 2" not in second


def test_a_task_named_like_a_path_writes_nothing_outside_the_run(
    home: Path, specs: dict[str, str], tmp_path: Path
) -> None:
    backend = LocalBackend(home)
    spec = renamed(specs["dataset"], {"write-lines": "../../../../victim", "count-lines": "/tmp/../x"})
    run = finished(backend, backend.submit(spec, {"count": 3}).id)
    assert run.state is RunState.SUCCEEDED, explain(run)
    assert files_outside(tmp_path, home) == []
    run_dir = backend.run_dir(run.id)
    assert [p for p in files_outside(home, run_dir) if not p.is_relative_to(home / "cache")
            and p.parent != home and p != run_dir.parent] == []  # fmt: skip
    assert run.step("/tmp/../x").outputs["Output"] == 3


def test_folder_names_are_unique_and_confined() -> None:
    from jupyter_mlops.executor.step_folders import folder_name

    names = ["make step", "make_step", "..", ".", "", "a/b", "a_b", "x" * 300, "é", "e", "loop[0].inner"]
    folders = [folder_name(n) for n in names]
    assert len(set(folders)) == len(names)
    for folder in folders:
        assert folder not in ("", ".", "..") and "/" not in folder and "\0" not in folder
        assert len(folder.encode()) <= 200
    assert folder_name("loop[0].inner") == "loop[0].inner"  # a name already safe stays readable
    assert folder_name("make_step") == "make_step"

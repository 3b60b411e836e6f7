"""A compile lists each cell's tree once for all the passes that walk it (analysis/tree_nodes.py): the
list is `ast.walk`'s order, node for node, and the plans, analyses and kfp's YAML are the same as
when every pass walks the tree itself, on the examples, the real-world notebooks, the compiler tests'
notebooks and random notebooks (star imports among them: the one pass that writes into a tree)."""

from __future__ import annotations

import ast
import contextlib
import inspect
import shutil
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.analysis import across_cells, tree_nodes
from jupyter_mlops.compiler import planner
from jupyter_mlops.notebook.reader import pipeline_from_notebook

from .test_linear_compile import chain
from .test_second_pass import _pipelines, _yaml


def _converted(folder: Path) -> dict[str, Any]:
    """The real-world notebooks as tests/realworld converts them to steps."""
    import nbformat
    from realworld.conversions import CONVERSIONS, NOTEBOOKS, convert, read_plain

    shutil.copytree(NOTEBOOKS, folder)
    found = {}
    for conversion in CONVERSIONS:
        path = folder / conversion.notebook
        nbformat.write(convert(conversion, read_plain(conversion)), str(path))
        found[f"converted {conversion.name}"] = pipeline_from_notebook(path)
    return found


def _planned(pipeline: Any) -> Any:
    try:
        plan = planner.plan_pipeline(pipeline)
    except Exception as exc:  # the same error both ways
        return ("error", type(exc).__name__, str(exc))
    return plan


def _trees() -> list[ast.AST]:
    trees: list[ast.AST] = [
        ast.parse(inspect.getsource(module)) for module in (ast, inspect, contextlib, across_cells, planner)
    ]
    for pipeline in _pipelines().values():
        for source in [pipeline.setup, *(s.source for s in pipeline)]:
            try:
                trees.append(ast.parse(source))
            except SyntaxError:  # IPython lines: converted by the analysis, not here
                continue
    trees.append(ast.parse("match p:\n    case [x, *rest] if x: pass\n    case {'k': v, **kw}: pass\n"))
    trees.append(ast.parse("async def f():\n    async with a as b:\n        yield [c async for c in d]\n"))
    return trees


def test_a_trees_listed_nodes_are_ast_walks_nodes_in_its_order() -> None:
    trees = _trees()
    assert len(trees) > 300
    for tree in trees:
        listed = tree_nodes._nodes(tree)
        walked = tuple(ast.walk(tree))
        assert len(listed) == len(walked)
        assert all(a is b for a, b in zip(listed, walked, strict=True))


def test_walks_outside_a_compile_are_ast_walk() -> None:
    tree = ast.parse("x = 1\n")
    assert not isinstance(tree_nodes.walk(tree), tuple)
    with tree_nodes.walks_kept():
        first = tree_nodes.walk(tree)
        assert tree_nodes.walk(tree) is first  # listed once
        assert not isinstance(tree_nodes.walk(tree.body[0]), tuple)  # only a module is kept
        tree_nodes.changed(tree)
        assert tree_nodes.walk(tree) is not first
    assert not isinstance(tree_nodes.walk(tree), tuple)


def test_plans_and_yaml_are_those_of_walking_every_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pipelines = {**_pipelines(), **_converted(tmp_path / "nb")}
    monkeypatch.chdir(tmp_path / "nb")  # the notebooks' own modules (`from helpers import *`)
    kept = {name: (_planned(p), _yaml(p)) for name, p in pipelines.items()}
    monkeypatch.setattr(planner, "walks_kept", contextlib.nullcontext)
    walked = {name: (_planned(p), _yaml(p)) for name, p in pipelines.items()}
    for name in pipelines:
        assert kept[name] == walked[name], name
    assert sum(not isinstance(plan, tuple) for plan, _ in kept.values()) > 20  # (plans, not errors)


def test_a_chains_cells_are_walked_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each cell's tree: one walk to expand star imports, one listing for every other pass (~10 before)."""
    walks = 0
    real_walk, real_nodes = ast.walk, tree_nodes._nodes

    def walk(node: ast.AST) -> Any:
        nonlocal walks
        walks += isinstance(node, ast.Module)
        return real_walk(node)

    def nodes(node: ast.AST) -> Any:
        nonlocal walks
        walks += 1
        return real_nodes(node)

    monkeypatch.setattr(ast, "walk", walk)
    monkeypatch.setattr(tree_nodes, "_nodes", nodes)
    planner.plan_pipeline(chain(40))
    assert walks <= 2 * 41, walks

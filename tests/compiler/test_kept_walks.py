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
from counting import calls_of

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


def _outside_methods_walked(tree: ast.AST) -> list[ast.AST]:
    """state_changes._outside_methods as it was: every node but those of its classes' methods."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.ClassDef) and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            stack.append(child)
    return found


def test_the_nodes_outside_methods_are_the_same_nodes() -> None:
    from jupyter_mlops.analysis.state_changes import _outside_methods

    trees = [*_trees(), ast.parse("class A:\n    def m(self):\n        x.y = 1\n    z = f(1)\nw.v = 2\n")]
    assert any(isinstance(n, ast.ClassDef) for t in trees for n in ast.walk(t))
    for tree in trees:
        expected = sorted(map(id, _outside_methods_walked(tree)))
        assert sorted(map(id, _outside_methods(tree))) == expected  # type: ignore[arg-type]
        with tree_nodes.walks_kept():
            assert sorted(map(id, _outside_methods(tree))) == expected  # type: ignore[arg-type]


def test_a_plain_cells_lines_are_mapped_without_a_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    import difflib

    from jupyter_mlops.analysis import cell_python

    sources = [s.source for p in _pipelines().values() for s in p] + ["", "\n", "x = 1", "%%time\nx = 1\n"]
    converted = {}
    for source in sources:
        try:
            converted[source] = cell_python.to_python(source, cell="c", first_line=2)
        except Exception as exc:
            converted[source] = type(exc)  # type: ignore[assignment]
    diffs = 0
    real = difflib.SequenceMatcher

    class Counted(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            nonlocal diffs
            diffs += 1
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(difflib, "SequenceMatcher", Counted)
    unchanged = 0
    for source in sources:
        try:
            again = cell_python.to_python(source, cell="c", first_line=2)
        except Exception as exc:
            again = type(exc)  # type: ignore[assignment]
        assert again == converted[source]  # the same line maps as with the diff
    for lines in (["a", "b"], ["x = 1"]):
        before = diffs
        mapped = cell_python._with_line_map("\n".join(lines) + "\n", lines, 5)
        assert mapped.line_map == (5, 6)[: len(lines)]
        unchanged += diffs == before
    assert unchanged == 2
    assert diffs < len(sources) // 2, diffs  # one a cell before


def test_a_star_import_listed_before_it_is_expanded_is_listed_again() -> None:
    from jupyter_mlops.analysis.cell_python import to_python
    from jupyter_mlops.analysis.star_imports import expand_star_imports

    tree = ast.parse("from os.path import *\nx = join('a', 'b')\n")
    with tree_nodes.walks_kept():
        before = tree_nodes.walk(tree)
        expand_star_imports(tree, to_python("x = 1\n", cell="c"), "c")
        after = tree_nodes.walk(tree)
        assert after is not before
        assert [type(n) for n in after] == [type(n) for n in ast.walk(tree)]
        assert {a.name for a in after if isinstance(a, ast.alias)} >= {"join", "exists"}


def test_a_step_nothing_widens_keeps_its_analysis() -> None:
    """follow_groups made a copy of every step's analysis, equal to it where nothing is linked."""
    from jupyter_mlops.analysis import across_cells, alias_flow

    cells = across_cells.analyze_pipeline(chain(20))
    flow = alias_flow.follow_groups(cells.steps, cells.setup)
    assert all(a is b for (_, a), (_, b) in zip(flow.steps, cells.steps, strict=True))
    for pipeline in _pipelines().values():  # and where something is: a copy with more
        try:
            cells = across_cells.analyze_pipeline(pipeline)
        except Exception:
            continue
        flow = alias_flow.follow_groups(cells.steps, cells.setup)
        for (_, widened), (_, analysis) in zip(flow.steps, cells.steps, strict=True):
            assert widened.mutates >= analysis.mutates
            assert (widened is analysis) == (widened == analysis)


def test_the_planner_combines_the_setup_cells_options_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_mlops.notebook.pipeline import Pipeline

    combined = 0
    real = Pipeline.setup_options

    def counted(self: Pipeline) -> Any:
        nonlocal combined
        combined += 1
        return real.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(Pipeline, "setup_options", property(counted))
    planner.plan_pipeline(chain(30))
    assert combined <= 3, combined  # twice a step, and once, before


def test_what_a_cell_binds_is_worked_out_once_a_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_mlops.analysis import value_kinds

    real = value_kinds._bindings
    calls = calls_of(monkeypatch, value_kinds, "_bindings")
    planner.plan_pipeline(chain(40))
    made = [id(tree) for tree, *_ in calls]
    assert len(made) == len(set(made)), len(made)  # each step's inputs, kinds, carried code: 2 a cell before
    tree = ast.parse("import os\nx = 1\ndef f():\n    pass\n")
    assert value_kinds.bindings(tree) == real(tree) == {"os": {"import"}, "x": {"assign"}, "f": {"def"}}
    with tree_nodes.walks_kept():
        first = value_kinds.bindings(tree)
        assert value_kinds.bindings(tree) is first
        tree_nodes.changed(tree)
        assert value_kinds.bindings(tree) is not first
        assert value_kinds.bindings(tree) == first

"""What a cell reads, binds, mutates and deletes: small cells that trip naive analysers."""

from __future__ import annotations

import pytest

from jupyter_mlops.analysis.cell import CellAnalysis, analyze_cell
from jupyter_mlops.errors import CellError

BUILTINS_USED = {"print", "len", "range", "sum", "int", "str", "open", "ValueError", "isinstance", "list"}


def cell(source: str) -> CellAnalysis:
    return analyze_cell(source, cell="c")


def reads(source: str) -> set[str]:
    """Hard reads, builtins left out so the tests say only what matters."""
    return set(cell(source).reads) - BUILTINS_USED


def maybe(source: str) -> set[str]:
    return set(cell(source).maybe_reads) - BUILTINS_USED


def binds(source: str) -> set[str]:
    return set(cell(source).binds)


# -- assignment forms ----------


def test_plain_assignment_binds_and_reads_the_right_side() -> None:
    assert reads("y = x + 1") == {"x"}
    assert binds("y = x + 1") == {"y"}


def test_augmented_assignment_reads_and_binds() -> None:
    assert reads("x += 1") == {"x"}
    assert binds("x += 1") == {"x"}


def test_augmented_assignment_after_a_binding_reads_nothing() -> None:
    assert reads("x = 0\nx += 1") == set()


def test_read_before_binding_in_the_same_cell_is_a_read() -> None:
    assert reads("y = x\nx = 2") == {"x"}
    assert binds("y = x\nx = 2") == {"x", "y"}


def test_star_unpacking_and_nested_targets_bind_every_name() -> None:
    assert binds("a, *b = c\n[d, (e, f)] = g") == {"a", "b", "d", "e", "f"}
    assert reads("a, *b = c\n[d, (e, f)] = g") == {"c", "g"}


def test_chained_assignment_binds_all_targets() -> None:
    assert binds("a = b = 0") == {"a", "b"}


def test_subscript_assignment_mutates_its_root() -> None:
    analysis = cell("x[i] = 1")
    assert analysis.mutates == {"x"}
    assert set(analysis.reads) == {"x", "i"}
    assert analysis.binds == frozenset()


def test_attribute_assignment_mutates_its_root() -> None:
    assert cell("model.coef_ = w").mutates == {"model"}


def test_deep_target_mutates_the_root_name_and_reads_the_indexes() -> None:
    analysis = cell("x.a.b[c] = 2")
    assert analysis.mutates == {"x"}
    assert set(analysis.reads) == {"x", "c"}


def test_augmented_subscript_assignment_mutates() -> None:
    assert cell("counts[k] += 1").mutates == {"counts"}


def test_del_of_an_item_or_attribute_mutates() -> None:
    assert cell("del cfg['lr']").mutates == {"cfg"}
    assert cell("del obj.attr").mutates == {"obj"}


def test_mutating_a_name_bound_in_the_cell_is_not_an_outside_mutation() -> None:
    analysis = cell("d = {}\nd['k'] = 1")
    assert analysis.mutates == frozenset()
    assert analysis.binds == {"d"}


def test_a_method_call_may_change_its_receiver() -> None:
    # Issue 9 item 1: `items.append(3)` changes items (this test used to pin the opposite).
    analysis = cell("items.append(3)")
    assert analysis.mutates == {"items"}
    assert analysis.reads == {"items"}


def test_assigning_through_a_call_may_change_what_the_call_returns() -> None:
    # `get(x)` may return x itself, and x is passed to a call that may change it (issue 9 item 1).
    # `get`, unknown here (no setup cell defines it), may be a value that changes when called.
    analysis = cell("get(x).a = 1")
    assert analysis.mutates == {"x", "get"}
    assert analysis.reads == {"get", "x"}


# -- annotations ----------


def test_annotation_without_value_does_not_bind() -> None:
    assert binds("x: int") == set()
    assert reads("x: int\nprint(x)") == {"x"}


def test_annotated_assignment_binds_and_module_annotations_are_read() -> None:
    analysis = cell("y: Foo = 3")
    assert analysis.binds == {"y"}
    assert analysis.reads == {"Foo"}


def test_function_signature_annotations_are_read_but_local_ones_are_not() -> None:
    source = "def f(a: Bar) -> Baz:\n    z: Qux = 1\n    return z"
    assert reads(source) == {"Bar", "Baz"}


def test_future_annotations_make_annotations_free() -> None:
    source = "from __future__ import annotations\ny: Foo = 3\ndef f(a: Bar) -> Baz:\n    pass"
    assert reads(source) == set()


def test_annotation_of_a_local_makes_it_local() -> None:
    assert reads("def f():\n    x: int\n    return x") == set()


# -- nested scopes ----------


def test_comprehension_variables_are_local() -> None:
    source = "ys = [x * k for x in data if x > t]"
    assert reads(source) == {"data", "k", "t"}
    assert binds(source) == {"ys"}


def test_nested_comprehensions() -> None:
    source = "m = [[y * s for y in row] for row in grid]"
    assert reads(source) == {"s", "grid"}


def test_dict_and_set_comprehensions_and_generators() -> None:
    assert reads("d = {k: v for k, v in pairs}") == {"pairs"}
    assert reads("s = {f(a) for a in xs}") == {"f", "xs"}
    assert reads("total = sum(a * w for a in xs)") == {"w", "xs"}


def test_generator_expression_body_may_read_a_name_bound_later() -> None:
    source = "g = (x + k for x in data)\nk = 3\nout = list(g)"
    assert reads(source) == {"data"}
    assert maybe(source) == {"k"}


def test_function_parameters_and_locals_are_local() -> None:
    source = "def f(a, *args, b=1, **kw):\n    c = a + b\n    return c, args, kw, g"
    assert reads(source) == {"g"}
    assert binds(source) == {"f"}


def test_lambda_parameters_are_local_and_free_names_are_read() -> None:
    assert reads("f = lambda y: y + z") == {"z"}


def test_defaults_and_decorators_are_evaluated_at_def_time() -> None:
    source = "@decorate(arg)\ndef f(x=dflt, *, y=kwdflt):\n    return x"
    assert reads(source) == {"decorate", "arg", "dflt", "kwdflt"}
    assert reads("f = lambda x=dflt: x") == {"dflt"}


def test_recursive_function_does_not_read_its_own_name() -> None:
    source = "def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\nfact(3)"
    assert reads(source) == set()
    assert maybe(source) == set()


def test_function_reading_a_name_the_cell_binds_later_is_a_soft_read() -> None:
    source = "def f():\n    return later\nlater = 1\nf()"
    assert reads(source) == set()
    assert maybe(source) == {"later"}


def test_helpers_may_be_defined_in_any_order() -> None:
    source = "def plot(x):\n    return fmt(x)\ndef fmt(x):\n    return str(x)\nplot(1)"
    assert reads(source) == set()
    assert maybe(source) == set()


def test_a_helper_defined_only_on_some_paths_is_a_soft_read() -> None:
    source = "def plot(x):\n    return fmt(x)\nif c:\n    def fmt(x):\n        return x"
    assert maybe(source) == {"fmt"}


def test_function_reading_a_name_bound_before_it_reads_nothing() -> None:
    assert reads("scale = 2\ndef f(x):\n    return x * scale") == set()


def test_function_reading_a_name_never_bound_at_top_level_reads_it() -> None:
    assert reads("def f():\n    return model.predict(1)") == {"model"}


def test_class_body_names_are_class_attributes() -> None:
    source = "class A(Base, metaclass=Meta):\n    x = 1\n    y = x + 1\n    def m(self):\n        return x"
    # `x` in the method is not the class attribute: methods skip the class scope.
    assert reads(source) == {"Base", "Meta", "x"}
    assert binds(source) == {"A"}


def test_comprehension_in_a_class_body_skips_the_class_scope() -> None:
    source = "class A:\n    x = 1\n    y = [x for _ in range(3)]"
    assert reads(source) == {"x"}


def test_class_methods_can_use_the_class_name() -> None:
    source = "class Node:\n    def children(self):\n        return [Node()]"
    assert reads(source) == set()


def test_global_declaration_binds_the_module_name() -> None:
    source = "def init():\n    global cfg\n    cfg = load()\ninit()\nprint(cfg)"
    analysis = cell(source)
    assert "cfg" in analysis.binds
    assert "cfg" not in analysis.reads  # bound if init() ran: not needed from outside for sure
    assert analysis.reads - BUILTINS_USED == {"load"}


def test_global_declaration_then_augmented_assignment_reads_and_binds() -> None:
    source = "def bump():\n    global count\n    count += 1"
    # Soft: the cell binds `count` itself (when bump runs), so an outside value is taken if one
    # exists, and its absence is no error.
    assert maybe(source) == {"count"}
    assert binds(source) == {"bump", "count"}


def test_nonlocal_names_belong_to_the_enclosing_function() -> None:
    source = "def outer():\n    v = 1\n    def inner():\n        nonlocal v\n        v += w\n    return inner"
    assert reads(source) == {"w"}
    assert binds(source) == {"outer"}


def test_a_function_assigning_a_name_makes_it_local_even_if_read_first() -> None:
    assert reads("def f():\n    print(x)\n    x = 1") == set()


# -- walrus ----------


def test_walrus_at_top_level_binds() -> None:
    source = "if (n := len(data)) > 3:\n    pass\nprint(n)"
    assert binds(source) == {"n"}
    assert reads(source) == {"data"}


def test_walrus_in_a_comprehension_binds_in_the_cell() -> None:
    source = "z = [last := i for i in range(3)]\nprint(last)"
    assert binds(source) == {"z", "last"}
    assert reads(source) == set()
    assert maybe(source) == {"last"}  # an empty comprehension binds nothing


def test_walrus_in_a_comprehension_inside_a_function_is_local_to_the_function() -> None:
    source = "def f(xs):\n    [m := x for x in xs]\n    return m"
    assert reads(source) == set()
    assert binds(source) == {"f"}


def test_walrus_in_a_later_operand_of_or_binds_maybe() -> None:
    source = "ok = a or (b := 1)\nprint(b)"
    assert maybe(source) == {"b"}


# -- control flow ----------


def test_for_target_is_bound_and_maybe_after_the_loop() -> None:
    source = "for i in range(3):\n    total = i\nprint(total, i)"
    analysis = cell(source)
    assert analysis.binds == {"i", "total"}
    assert analysis.reads - BUILTINS_USED == set()
    assert analysis.maybe_reads == {"i", "total"}
    assert analysis.maybe_binds == {"i", "total"}


def test_loop_body_second_round_sees_the_first_rounds_bindings() -> None:
    source = "for i in range(3):\n    if i:\n        print(prev)\n    prev = i"
    assert reads(source) == set()
    assert maybe(source) == {"prev"}


def test_while_loop_and_its_else() -> None:
    source = "while n > 0:\n    n -= step\nelse:\n    done = True\nprint(done)"
    assert reads(source) == {"n", "step"}
    assert maybe(source) == set()


def test_with_as_binds() -> None:
    source = "with open(path) as fh, lock:\n    text = fh.read()"
    assert binds(source) == {"fh", "text"}
    assert reads(source) == {"path", "lock"}


def test_except_as_binds_and_python_unbinds_it_after_the_handler() -> None:
    source = "try:\n    v = int(s)\nexcept ValueError as e:\n    err = e\nprint(e)"
    analysis = cell(source)
    assert "e" in analysis.binds
    assert "e" in analysis.reads  # read after the handler: Python deleted it
    assert "e" not in analysis.deletes  # only if the handler ran; an outside `e` survives otherwise


def test_try_except_else_finally() -> None:
    source = (
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\nelse:\n"
        "    fast = True\nfinally:\n    tried = True\nprint(json.dumps(1), tried)"
    )
    analysis = cell(source)
    assert analysis.binds == {"json", "fast", "tried"}
    assert analysis.reads - BUILTINS_USED == {"ImportError"}
    assert analysis.maybe_reads == frozenset()
    assert analysis.maybe_binds == {"fast"}


def test_finally_may_run_before_the_try_body_bound_anything() -> None:
    source = "try:\n    v = compute()\nfinally:\n    print(v)"
    assert maybe(source) == {"v"}


def test_if_else_binding_on_both_branches_is_definite() -> None:
    assert maybe("if c:\n    x = 1\nelse:\n    x = 2\nprint(x)") == set()


def test_if_binding_in_one_branch_only_is_a_maybe_binding() -> None:
    source = "if c:\n    y = 1\nprint(y)"
    analysis = cell(source)
    assert "y" in analysis.binds
    assert analysis.maybe_binds == {"y"}
    assert "y" not in analysis.reads
    assert analysis.maybe_reads == {"y"}


def test_read_before_the_conditional_binding_is_a_hard_read() -> None:
    assert reads("print(y)\nif c:\n    y = 1") == {"c", "y"}


def test_conditional_expression_binding_is_maybe() -> None:
    assert maybe("v = (a := 1) if c else 0\nprint(a)") == {"a"}


def test_match_captures_values_and_classes() -> None:
    source = (
        "match cmd:\n"
        "    case Point(x=0, y=yy):\n        r = yy\n"
        "    case [a, *rest]:\n        r = rest\n"
        "    case {'k': v, **kw}:\n        r = kw\n"
        "    case Color.RED | None:\n        r = 0\n"
        "    case _:\n        r = -1\n"
        "print(r)"
    )
    analysis = cell(source)
    assert analysis.reads - BUILTINS_USED == {"cmd", "Point", "Color"}
    assert analysis.binds == {"yy", "a", "rest", "v", "kw", "r"}
    assert "r" not in analysis.maybe_binds  # `case _` always matches
    assert "yy" in analysis.maybe_binds


def test_match_without_a_catch_all_may_bind_nothing() -> None:
    source = "match x:\n    case 1:\n        r = 'one'\nprint(r)"
    assert maybe(source) == {"r"}


def test_del_unbinds_and_needs_the_name() -> None:
    analysis = cell("del x\ny = 1\ndel y")
    assert analysis.reads == {"x"}
    assert analysis.deletes == {"x", "y"}
    assert analysis.binds == {"y"}


def test_del_in_one_branch_only_is_not_a_delete() -> None:
    assert cell("if c:\n    del x").deletes == frozenset()


def test_del_then_rebind_is_not_a_delete() -> None:
    assert cell("x = 1\ndel x\nx = 2").deletes == frozenset()


def test_del_of_a_name_then_reading_it_reads_from_outside() -> None:
    assert reads("x = 1\ndel x\nprint(x)") == {"x"}


# -- imports ----------


def test_imports_bind_names_and_record_modules() -> None:
    source = (
        "import numpy as np\nfrom sklearn.linear_model import LinearRegression as LR\n"
        "import os.path\ndef f():\n    import scipy.stats\n    return scipy"
    )
    analysis = cell(source)
    assert analysis.binds == {"np", "LR", "os", "f"}
    assert analysis.imports == {"np": "numpy", "LR": "sklearn", "os": "os"}
    assert analysis.imported_modules == {"numpy", "sklearn", "os", "scipy"}
    assert analysis.reads == frozenset()


def test_a_star_import_binds_the_names_the_module_gives_it() -> None:
    import math

    analysis = cell("from math import *\nroot = sqrt(x) + pi\n")
    public = {n for n in vars(math) if not n.startswith("_")}
    assert {"sqrt", "pi", "root"} <= analysis.binds and public <= analysis.binds
    assert analysis.reads == {"x"}  # sqrt and pi are the import's, not inputs
    assert analysis.imports["sqrt"] == "math"
    analysis = cell("from json import *\ntext = dumps(x)\n")  # a module's __all__ decides
    assert {"dumps", "loads", "JSONDecodeError"} <= analysis.binds and "codecs" not in analysis.binds


def test_a_star_import_whose_names_cannot_be_known_is_refused_with_advice() -> None:
    for source, why in [
        ("x = 1\nfrom no_such_module_here import *", "importing no_such_module_here failed here"),
        ("x = 1\nfrom .helpers import *", "a relative import"),
    ]:
        with pytest.raises(CellError) as raised:
            cell(source)
        message = str(raised.value)
        assert raised.value.cell == "c" and raised.value.line == 2, message
        assert why in message and "import a, b" in message, message


def test_relative_and_future_imports_name_no_module() -> None:
    analysis = cell("from __future__ import annotations\nfrom . import helpers")
    assert analysis.imports == {}
    assert analysis.binds == {"annotations", "helpers"}


# -- names that are special ----------


def test_builtins_are_reads_and_shadowing_builtins_binds() -> None:
    analysis = cell("list = [1]\ninput = 3\nx = len(list)")
    assert analysis.binds == {"list", "input", "x"}
    assert analysis.reads == {"len"}


def test_dunders_are_reads() -> None:
    assert cell("print(__name__, __file__)").reads == {"print", "__name__", "__file__"}


def test_f_strings_read_their_expressions_and_format_specs() -> None:
    assert reads("s = f'{a!r} and {b:{width}.2f}'") == {"a", "b", "width"}


def test_async_constructs() -> None:
    source = (
        "async def f():\n    async with x as y:\n        async for z in y:\n            await w\n"
        "r = await f()"
    )
    analysis = cell(source)
    assert analysis.reads == {"x", "w"}
    assert analysis.binds == {"f", "r"}
    assert analysis.top_level_await
    assert not cell("async def f():\n    await g()").top_level_await


# -- the last expression ----------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = 1\nx", "x"),
        ("x = 1\nx * 2  # doubled", "x * 2"),
        ("x = 1\nx;", None),
        ("x = 1\nx;  # hidden", None),
        ("(x);", None),
        ("(x)  # shown", "x"),
        ("a = 1; a", "a"),
        ("f'{x};'", "f'{x};'"),
        ("print(1)", None),
        ("display(df)", None),
        ("x = 1", None),
        ("if a:\n    b", None),
        ("model.score(\n    X, y\n)", "model.score(\n    X, y\n)"),
        ("%time f(x)", "f(x)"),
    ],
)
def test_last_expression_is_what_ipython_would_show(source: str, expected: str | None) -> None:
    assert cell(source).last_expression == expected


# -- errors ----------


def test_syntax_error_names_the_cell_line_and_python_message() -> None:
    with pytest.raises(CellError) as raised:
        cell("x = 1\ny = = 2\n")
    assert raised.value.line == 2
    assert raised.value.cell == "c"
    assert "invalid syntax" in str(raised.value)
    assert "y = = 2" in str(raised.value)


def test_errors_only_the_compiler_finds_are_syntax_errors_too() -> None:
    with pytest.raises(CellError) as raised:
        cell("x = 1\nreturn x")
    assert raised.value.line == 2
    assert "'return' outside function" in str(raised.value)


def test_line_numbers_follow_first_line() -> None:
    with pytest.raises(CellError) as raised:
        analyze_cell("x = 1\ny = = 2\n", cell="train", first_line=2)
    assert raised.value.line == 3
    assert analyze_cell("y = x", cell="t", first_line=2).read_lines == {"x": 2}


def test_read_lines_give_the_first_read() -> None:
    assert cell("a = 1\nb = x\nc = x").read_lines == {"x": 2}


def test_analysis_of_a_whole_notebook_cell_ignores_its_header() -> None:
    analysis = cell("%%component train --cpu 2\ny = x\n")
    assert analysis.reads == {"x"}
    assert analysis.read_lines == {"x": 2}


def test_except_star_handlers_bind_like_except() -> None:
    source = "try:\n    run()\nexcept* ValueError as group:\n    errors = group.exceptions"
    analysis = cell(source)
    assert analysis.binds == {"group", "errors"}
    assert analysis.reads - BUILTINS_USED == {"run"}


def test_global_at_top_level_changes_nothing() -> None:
    assert reads("global x\nx = 1\nprint(x)") == set()


def test_nonlocal_at_top_level_is_a_syntax_error() -> None:
    with pytest.raises(CellError, match="nonlocal declaration not allowed at module level"):
        cell("nonlocal x")


def test_lambda_default_is_read_where_the_lambda_is_made() -> None:
    assert reads("f = lambda v=later: v\nlater = 1") == {"later"}


def test_class_body_reads_before_its_own_binding_go_to_the_module() -> None:
    assert reads("class A:\n    y = x\n    x = 2") == {"x"}


def test_a_star_import_of_a_module_installed_since_the_last_compile_is_found(tmp_path, monkeypatch) -> None:
    import sys

    source = "from late_installed_mod import *\nvalue = helper_value * 2\n"
    with pytest.raises(CellError):
        cell(source)
    (tmp_path / "late_installed_mod.py").write_text("helper_value = 21\n")  # `%pip install` meanwhile
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "late_installed_mod", raising=False)
    analysis = cell(source)
    assert "helper_value" in analysis.binds and analysis.reads == frozenset()

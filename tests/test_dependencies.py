"""Which step takes which value from which earlier step: notebooks of a few tiny cells."""

from __future__ import annotations

import pytest

from jupyter_mlops.analysis.cell import analyze_cell
from jupyter_mlops.analysis.dependencies import Override, StepIO, infer_dependencies, topological_order
from jupyter_mlops.errors import CellError, CellErrors, PipelineError


def infer(
    *,
    params: tuple[str, ...] = (),
    setup: tuple[str, ...] = (),
    overrides: dict[str, Override] | None = None,
    **cells: str,
) -> dict[str, StepIO]:
    steps = [(name, analyze_cell(source, cell=name)) for name, source in cells.items()]
    return infer_dependencies(steps, params=params, setup_names=setup, overrides=overrides)


def test_a_chain_passes_values_down() -> None:
    io = infer(load="data = [1, 2, 3]", train="model = sum(data)", report="print(model)")
    assert io["load"] == StepIO(inputs={}, outputs=frozenset({"data"}), after=frozenset())
    assert io["train"] == StepIO({"data": "load"}, frozenset({"model"}), frozenset({"load"}))
    assert io["report"] == StepIO({"model": "train"}, frozenset(), frozenset({"train"}))


def test_fan_out_and_fan_in() -> None:
    io = infer(
        load="data = [1, 2, 3]",
        low="lo = min(data)",
        high="hi = max(data)",
        join="span = hi - lo",
    )
    assert io["low"].inputs == {"data": "load"}
    assert io["high"].inputs == {"data": "load"}
    assert io["join"].inputs == {"hi": "high", "lo": "low"}
    assert io["join"].after == {"high", "low"}
    assert io["load"].outputs == {"data"}
    assert topological_order(io) == ["load", "low", "high", "join"]


def test_names_no_later_step_reads_are_not_outputs() -> None:
    io = infer(a="x = 1\nscratch = 2", b="y = x")
    assert io["a"].outputs == {"x"}


def test_the_latest_earlier_producer_wins() -> None:
    io = infer(a="x = 1", b="x = 2", c="y = x")
    assert io["c"].inputs == {"x": "b"}
    assert io["a"].outputs == frozenset()


def test_a_mutation_makes_the_mutating_step_the_producer() -> None:
    io = infer(a="cfg = {}", b="cfg['lr'] = 0.1", c="print(cfg)")
    assert io["b"].inputs == {"cfg": "a"}
    assert io["c"].inputs == {"cfg": "b"}


def test_augmented_assignment_takes_and_gives_the_value() -> None:
    io = infer(a="n = 1", b="n += 1", c="print(n)")
    assert io["b"].inputs == {"n": "a"}
    assert io["c"].inputs == {"n": "b"}


def test_a_method_call_makes_a_producer_and_outputs_can_still_say_so() -> None:
    # Issue 9 item 1: `items.append(1)` changes items, so c takes it from b (this test used to pin
    # that c took it from a unless b's --outputs said otherwise).
    io = infer(a="items = []", b="items.append(1)", c="print(items)")
    assert io["c"].inputs == {"items": "b"}
    assert io["b"].inputs == {"items": "a"}
    io = infer(
        a="items = []", b="items.append(1)", c="print(items)", overrides={"b": Override(outputs=("items",))}
    )
    assert io["c"].inputs == {"items": "b"}
    assert io["b"].inputs == {"items": "a"}


def test_params_and_setup_names_are_not_inputs() -> None:
    io = infer(params=("lr",), setup=("np",), train="w = np.zeros(3) * lr")
    assert io["train"].inputs == {}


def test_a_step_rebinding_a_param_gives_later_readers_its_value() -> None:
    io = infer(params=("lr",), a="lr = lr / 10", b="step = lr * 2")
    assert io["a"].inputs == {}
    assert io["b"].inputs == {"lr": "a"}


def test_a_step_mutating_a_setup_name_gives_later_readers_its_value() -> None:
    io = infer(setup=("config",), a="config['epochs'] = 3", b="print(config)")
    assert io["b"].inputs == {"config": "a"}


def test_builtins_need_nothing_but_a_shadowed_builtin_is_an_input() -> None:
    io = infer(a="list = [3, 1]\ninput = 'x'", b="print(sorted(list), input, len(list))")
    assert io["b"].inputs == {"input": "a", "list": "a"}


def test_module_dunders_need_nothing() -> None:
    assert infer(a="print(__name__, __file__)")["a"].inputs == {}


def test_a_conditional_read_takes_an_earlier_value_if_there_is_one() -> None:
    io = infer(a="x = 1", b="if flag:\n    x = 2\nprint(x)", setup=("flag",))
    assert io["b"].inputs == {"x": "a"}
    # ...and is no error when nothing earlier defines it.
    assert infer(b="if flag:\n    x = 2\nprint(x)", setup=("flag",))["b"].inputs == {}


def test_a_step_binding_on_some_paths_passes_the_earlier_value_on() -> None:
    io = infer(setup=("flag",), a="x = 1", b="if flag:\n    x = 2", c="print(x)")
    assert io["c"].inputs == {"x": "b"}
    assert io["b"].inputs == {"x": "a"}  # when flag is false, b's x is a's
    assert io["b"].outputs == {"x"}
    assert io["a"].outputs == {"x"}


def test_a_loop_variable_is_not_passed_on_when_nobody_reads_it() -> None:
    io = infer(a="for i in range(2):\n    pass", b="for i in range(3):\n    pass")
    assert io["b"].inputs == {}


def test_imports_in_a_step_are_producers_of_their_names() -> None:
    io = infer(a="import math", b="r = math.sqrt(2)")
    assert io["b"].inputs == {"math": "a"}


def test_an_unknown_name_is_an_error_naming_cell_name_and_line() -> None:
    with pytest.raises(CellError) as raised:
        infer(load="data = 1", train="x = data\nfit = model.fit(x)")
    error = raised.value
    assert (error.cell, error.line) == ("train", 2)
    assert str(error) == (
        "cell train, line 2: name 'model' is read but no earlier step, setup cell or parameter "
        "defines it. Define it in an earlier %%component cell or in %%pipeline setup, or make it a "
        "parameter in %%pipeline params."
    )


@pytest.mark.parametrize(
    ("cells", "params", "setup", "said"),
    [
        # a typo of a name the same cell binds, of an earlier step's value, of a parameter, of setup's
        ({"load": "data = 1", "train": "model = data\nprint(modle)"}, (), (), "Did you mean 'model'?"),
        ({"load": "dataset = 1", "train": "x = datset + 1"}, (), (), "Did you mean 'dataset'?"),
        ({"train": "x = learning_rte * 2"}, ("learning_rate",), (), "Did you mean 'learning_rate'?"),
        ({"train": "x = sklearn_pipe(1)"}, (), ("sklearn_pipe",), None),  # known: no error at all
        ({"train": "x = lenght(1)"}, (), (), None),  # not a builtin's typo worth a guess: no suggestion
        ({"train": "y = xx"}, (), (), None),  # nothing close
    ],
)
def test_an_unknown_name_close_to_a_known_one_is_suggested(
    cells: dict[str, str], params: tuple[str, ...], setup: tuple[str, ...], said: str | None
) -> None:
    if "sklearn_pipe" in setup:
        infer(params=params, setup=setup, **cells)
        return
    with pytest.raises(CellError) as raised:
        infer(params=params, setup=setup, **cells)
    if said is None:
        assert "Did you mean" not in str(raised.value)
    else:
        assert said in str(raised.value) and str(raised.value).endswith("%%pipeline params.")


@pytest.mark.parametrize(
    ("code", "how"),
    [
        ("exec('extra = 5')", "exec(...)"),
        ("globals()['extra'] = 5", "globals()[...] = ..."),
        ("globals().update(extra=5)", "globals().update(...)"),
    ],
)
def test_a_name_only_dynamic_code_may_make_points_at_that_code_and_at_outputs(code: str, how: str) -> None:
    with pytest.raises(CellErrors) as raised:
        infer(make="label = 'x'\n" + code, use="print(label, extra)\nprint(other)")
    first, second = raised.value.errors
    assert (first.cell, first.line) == ("use", 1)
    assert f"step 'make' runs {how} (line 2), whose names cannot be seen before it runs" in str(first)
    assert "--outputs extra,label" in str(first), str(first)  # what `make` passes on, and the name
    assert "name 'other' is read" in str(second) and "--outputs label,other" in str(second)


def test_a_name_defined_only_by_a_later_step_says_so() -> None:
    with pytest.raises(CellError) as raised:
        infer(train="fit(model)", make="model = 1\ndef fit(m):\n    return m")
    # Both unknown names are reported at once (issue 9 item 8), each as it was alone.
    assert str(raised.value).splitlines() == [
        "2 problems in the notebook:",
        "  - cell train, line 1: name 'fit' is read but only step 'make' defines it, and that step comes "
        "later in the notebook. Move the 'make' cell above this one, or define 'fit' in an earlier step.",
        "  - cell train, line 1: name 'model' is read but only step 'make' defines it, and that step "
        "comes later in the notebook. Move the 'make' cell above this one, or define 'model' in an "
        "earlier step.",
    ]


def test_a_later_step_that_only_calls_a_method_of_a_name_does_not_define_it() -> None:
    # `np` comes from a plain cell (an import the steps do not see); a later step calls np.polyfit(...),
    # which the analysis counts as maybe changing `np`: that step must not be named as defining it.
    with pytest.raises(CellError) as raised:
        infer(make="xs = np.linspace(0, 1, 5)", fit="coef = np.polyfit(xs, xs, 1)")
    assert raised.value.cell == "make" and "name 'np' is read but no earlier step" in str(raised.value)
    assert "'fit'" not in str(raised.value)


def test_reading_a_name_an_earlier_step_deleted_is_an_error() -> None:
    with pytest.raises(CellError) as raised:
        infer(a="x = 1", b="del x", c="print(x)")
    assert "step 'b' deletes it" in str(raised.value)
    assert raised.value.cell == "c"


def test_deleting_a_shadowing_name_brings_the_builtin_back() -> None:
    assert infer(a="list = [1]", b="del list", c="print(list('ab'))")["c"].inputs == {}


def test_a_name_left_out_by_outputs_says_so() -> None:
    with pytest.raises(CellError) as raised:
        infer(a="x = 1\ny = 2", b="z = x + y", overrides={"a": Override(outputs=("x",))})
    assert "--outputs leaves it out" in str(raised.value)


def test_ipython_history_names_get_their_own_advice() -> None:
    with pytest.raises(CellError) as raised:
        infer(a="print(_)")
    assert "IPython's input/output history" in str(raised.value)


def test_display_gets_its_own_advice() -> None:
    with pytest.raises(CellError) as raised:
        infer(a="display(1)")
    assert "display() is IPython's" in str(raised.value)


def test_inputs_override_replaces_the_inferred_inputs() -> None:
    io = infer(a="x = 1\ny = 2", b="z = x + y + 1", overrides={"b": Override(inputs=("x",))})
    assert io["b"].inputs == {"x": "a"}
    assert io["a"].outputs == {"x"}


def test_inputs_override_may_name_params_and_setup_names() -> None:
    io = infer(params=("lr",), setup=("np",), a="w = 1", overrides={"a": Override(inputs=("lr", "np"))})
    assert io["a"].inputs == {}


def test_inputs_override_naming_nothing_known_is_an_error() -> None:
    with pytest.raises(CellError) as raised:
        infer(a="x = 1", b="y = 2", overrides={"b": Override(inputs=("nope",))})
    assert raised.value.cell == "b"
    assert "--inputs names 'nope'" in str(raised.value)


def test_outputs_override_replaces_the_outputs() -> None:
    io = infer(a="x = 1\ny = 2", b="print(x)", overrides={"a": Override(outputs=("x", "y"))})
    assert io["a"].outputs == {"x", "y"}


def test_after_adds_an_ordering_edge_without_data() -> None:
    io = infer(a="x = 1", b="y = 2", overrides={"b": Override(after=("a",))})
    assert io["b"].inputs == {}
    assert io["b"].after == {"a"}


def test_after_pointing_forward_reorders_the_steps() -> None:
    io = infer(a="x = 1", b="y = 2", overrides={"a": Override(after=("b",))})
    assert topological_order(io) == ["b", "a"]


def test_after_naming_an_unknown_step_is_an_error() -> None:
    with pytest.raises(PipelineError) as raised:
        infer(a="x = 1", b="y = x", overrides={"b": Override(after=("evaluate",))})
    assert str(raised.value) == (
        "step 'b' runs --after 'evaluate', which is not a step of this pipeline (its steps: a, b)"
    )


def test_a_cycle_through_after_names_its_steps_in_order() -> None:
    with pytest.raises(PipelineError) as raised:
        infer(a="x = 1", b="y = x", c="z = y", overrides={"a": Override(after=("c",))})
    assert "steps a -> b -> c -> a form a cycle" in str(raised.value)
    assert "--after" in str(raised.value)


def test_a_step_after_itself_is_a_cycle() -> None:
    with pytest.raises(PipelineError, match="a -> a"):
        infer(a="x = 1", overrides={"a": Override(after=("a",))})


def test_two_steps_with_one_name_are_an_error() -> None:
    steps = [("a", analyze_cell("x = 1", cell="a")), ("a", analyze_cell("y = 1", cell="a"))]
    with pytest.raises(PipelineError, match="two cells define step 'a'"):
        infer_dependencies(steps, params=(), setup_names=())


def test_topological_order_keeps_notebook_order_among_independent_steps() -> None:
    io = {
        "c": StepIO({}, frozenset(), frozenset()),
        "a": StepIO({}, frozenset(), frozenset({"b"})),
        "b": StepIO({}, frozenset(), frozenset()),
    }
    assert topological_order(io) == ["c", "b", "a"]


def test_inputs_are_sorted_so_compiled_pipelines_are_reproducible() -> None:
    io = infer(a="zeta = 1\nalpha = 2\nmid = 3", b="print(zeta, mid, alpha)")
    assert list(io["b"].inputs) == ["alpha", "mid", "zeta"]


def test_params_lists_the_parameters_a_step_needs_from_the_compiler() -> None:
    io = infer(params=("lr", "epochs"), a="w = lr * 2", b="if epochs:\n    z = 1\nprint(z)", c="print(w)")
    assert io["a"].params == {"lr"}
    assert io["b"].params == {"epochs"}
    assert io["c"].params == frozenset()


def test_a_rebound_param_comes_from_the_step_not_the_compiler() -> None:
    io = infer(params=("lr",), a="lr = 0.5", b="print(lr)")
    assert io["b"].params == frozenset()
    assert io["b"].inputs == {"lr": "a"}


def test_a_step_binding_a_param_on_some_paths_gets_the_param_to_pass_on() -> None:
    io = infer(params=("lr",), setup=("flag",), a="if flag:\n    lr = 0.1", b="print(lr)")
    assert io["b"].inputs == {"lr": "a"}
    assert io["a"].params == {"lr"}

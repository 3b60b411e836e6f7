"""A step that may change a value is its latest producer (issue 9 item 1): later readers take the
value from it and run after it; steps that only read it do not become producers."""

from __future__ import annotations

from jupyter_mlops.analysis.cell import analyze_cell
from jupyter_mlops.analysis.dependencies import Override, StepIO, infer_dependencies, topological_order


def infer(
    *,
    params: tuple[str, ...] = (),
    setup: tuple[str, ...] = (),
    overrides: dict[str, Override] | None = None,
    **cells: str,
) -> dict[str, StepIO]:
    steps = [(name, analyze_cell(source, cell=name)) for name, source in cells.items()]
    return infer_dependencies(steps, params=params, setup_names=setup, overrides=overrides)


def test_fit_changes_the_model_use_takes_it_from_fit_and_runs_after_it() -> None:
    io = infer(
        make="model = Model()",
        fit="model.fit([[0], [1]], [0, 1])",
        use="model.predict([[1]])",
        setup=("Model",),
    )
    assert io["fit"].inputs == {"model": "make"} and io["fit"].outputs == {"model"}
    assert io["use"].inputs == {"model": "fit"}
    assert io["use"].after == {"fit"}
    assert topological_order(io) == ["make", "fit", "use"]


def test_steps_that_only_read_are_not_producers() -> None:
    io = infer(
        make="df = load()",
        look="print(df.head(), df.shape, len(df))",
        stats="m = df.mean()",
        use="print(df.describe())",
        setup=("load",),
    )
    assert io["use"].inputs == {"df": "make"}
    assert io["make"].outputs == {"df"}
    assert io["look"].outputs == io["stats"].outputs == io["use"].outputs == frozenset()
    # look, stats and use all read df from make, so they may run in parallel.
    assert io["look"].after == io["stats"].after == io["use"].after == {"make"}


def test_each_repro_of_the_issue_makes_a_producer() -> None:
    changes = {
        "df.drop(columns=['a'], inplace=True)": "df",
        "lst.append(x)": "lst",
        "rng.shuffle(a)": "a",
        "for d in [df]:\n    d['b'] = 1": "df",
        "helper(df)": "df",
        "del df['a']": "df",
    }
    for source, name in changes.items():
        first = "df = make()\nlst = make()\nrng = make()\na = make()\nx = 1"
        io = infer(first=first, change=source, then=f"print({name})", setup=("make", "helper"))
        assert io["then"].inputs == {name: "change"}, source


def test_shuffle_changes_the_generator_too() -> None:
    io = infer(a="rng = make()\na = [1, 2]", b="rng.shuffle(a)", c="print(rng.random(), a)", setup=("make",))
    assert io["c"].inputs == {"a": "b", "rng": "b"}


def test_changing_a_setup_object_or_a_parameter_list_gives_later_readers_that_value() -> None:
    io = infer(setup=("registry",), a="registry.append('x')", b="print(registry)")
    assert io["b"].inputs == {"registry": "a"}
    io = infer(params=("layers",), a="layers.append(3)", b="n = len(layers)")
    assert io["b"].inputs == {"layers": "a"} and "layers" in io["a"].params


def test_a_step_that_reads_and_may_change_passes_the_value_on() -> None:
    io = infer(a="items = [3, 1]", b="items.sort()\nfirst = items[0]", c="print(first, items)")
    assert io["b"].inputs == {"items": "a"}
    assert io["b"].outputs == {"items", "first"}
    assert io["c"].inputs == {"first": "b", "items": "b"}


def test_a_change_on_some_paths_does_not_unbind() -> None:
    io = infer(a="items = []", b="if flag:\n    items.append(1)", c="print(items)", setup=("flag",))
    assert io["c"].inputs == {"items": "b"} and io["b"].inputs == {"items": "a"}


def test_outputs_override_still_decides() -> None:
    io = infer(
        a="items = []",
        b="items.append(1)\nn = 1",
        c="print(items)",
        overrides={"b": Override(outputs=("n",))},
    )
    assert io["c"].inputs == {"items": "a"}


def test_a_number_parameter_or_setup_constant_passed_to_a_call_is_not_changed() -> None:
    io = infer(params=("lr",), setup=("LIMIT", "helper"), a="helper(lr, LIMIT)", b="print(lr, LIMIT)")
    assert io["b"].inputs == {"lr": "a", "LIMIT": "a"}  # without knowing they cannot change
    steps = [
        (name, analyze_cell(source, cell=name))
        for name, source in [("a", "helper(lr, LIMIT)"), ("b", "print(lr, LIMIT)")]
    ]
    io = infer_dependencies(steps, params=("lr",), setup_names=("LIMIT", "helper"), immutable=("lr", "LIMIT"))
    assert io["b"].inputs == {} and io["b"].params == {"lr"}
    assert io["a"].outputs == frozenset()


def test_with_inputs_a_step_passes_on_only_what_it_is_given() -> None:
    overrides = {"b": Override(inputs=("items",))}
    io = infer(
        a="items = []\nother = []",
        b="items.append(1)\nhelper(other)",
        c="print(items, other)",
        setup=("helper",),
        overrides=overrides,
    )
    assert io["c"].inputs == {"items": "b", "other": "a"}

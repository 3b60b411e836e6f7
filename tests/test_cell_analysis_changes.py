"""Values changed in place (issue 9 item 1): every way a cell may change an outside value counts,
known read-only calls do not, and what the analysis cannot be sure of is said (`may_change`, notes)."""

from __future__ import annotations

import pytest

from jupyter_mlops.analysis.cell import CellAnalysis, analyze_cell
from jupyter_mlops.analysis.readonly_calls import (
    READ_ONLY_FUNCTIONS,
    READ_ONLY_METHODS,
    RECEIVER_CHANGING_METHODS,
    function_changes_arguments,
)

# What other cells import (-> path) and define (-> ''), as the compiler tells each cell.
IMPORTS = {
    "np": "numpy",
    "pd": "pandas",
    "plt": "matplotlib.pyplot",
    "helper": "",
    "open_thing": "",
    "process": "",
}


def cell(source: str, **code: str) -> CellAnalysis:
    return analyze_cell(source, cell="c", outside_code={**IMPORTS, **code})


@pytest.mark.parametrize(
    ("source", "changed", "unsure"),
    [
        # the issue's repros
        ("model.fit([[0], [1]], [0, 1])", {"model"}, set()),
        ("df.drop(columns=['a'], inplace=True)", {"df"}, set()),
        ("lst.append(x)", {"lst"}, set()),
        ("rng.shuffle(a)", {"rng", "a"}, set()),
        ("for d in [df]:\n    d['b'] = 1", {"df"}, {"df"}),
        ("helper(df)", {"df"}, {"df"}),
        ("del df['a']", {"df"}, set()),
        # paths rooted at the name, aliases, with, del of an attribute, += through an item
        ("self.layers[0].reset()", {"self"}, {"self"}),
        ("d = df\nd['b'] = 1", {"df"}, {"df"}),
        ("with open_thing(df) as h:\n    h.x = 1", {"df"}, {"df"}),
        ("del obj.attr", {"obj"}, set()),
        ("counts['k'] += 1", {"counts"}, set()),
        ("box = [df]\nbox[0]['b'] = 1", {"df"}, {"df"}),
        ("col = df['a']\ncol.fillna(0, inplace=True)", {"df"}, {"df"}),
        ("np.random.shuffle(a)", {"a"}, set()),
        ("np.add(a, 1, out=b)", {"b"}, set()),
        ("x = arr\nx += 1", {"arr"}, {"arr"}),
        ("cache.setdefault('k', []).append(1)", {"cache"}, set()),
        ("match df:\n    case {'a': col}:\n        col.append(1)", {"df"}, {"df"}),
        # an unknown method, an unknown function's arguments
        ("obj.frobnicate()", {"obj"}, {"obj"}),
        ("process(data, cfg)", {"data", "cfg"}, {"data", "cfg"}),
        # inside the cell's own function (sound: the function may be called)
        ("def go():\n    items.append(1)\ngo()", {"items"}, set()),
        # the cell's own functions are read: what they change in their parameters, and globals
        ("def go(v):\n    v['b'] = 1\ngo(df)", {"df"}, set()),
        ("def go(v, w):\n    v['b'] = 1\ngo(df, w=other)", {"df"}, set()),
        ("def go(v, w):\n    w.append(v)\ngo(df, w=other)", {"other"}, set()),
        ("def go(v):\n    helper(v)\ngo(df)", {"df"}, {"df"}),
        ("def note(v):\n    history.append(v)\nnote(1)", {"history"}, set()),
        # shallow copies share items, not the container
        ("c = lst.copy()\nc[0].append(1)", {"lst"}, {"lst"}),
        ("c = list(lst)\nc[0]['k'] = 1", {"lst"}, {"lst"}),
        ("for row in rows:\n    row.append(0)", {"rows"}, {"rows"}),
    ],
)
def test_every_way_to_change_a_value_counts(source: str, changed: set[str], unsure: set[str]) -> None:
    analysis = cell(source)
    assert analysis.mutates == changed, source
    assert set(analysis.may_change) == unsure, source
    # A changed value is also read: the step takes it in and passes it on.
    assert changed <= analysis.reads | analysis.maybe_reads, source


@pytest.mark.parametrize(
    "source",
    [
        "model.predict([[1]])",
        "print(len(df), df.shape, df.head(), df.describe())",
        "m = df['a'].mean() + np.mean(arr) + arr.sum()",
        "y = model.predict_proba(X)[:, 1]\ns = model.score(X, y)",
        "Z = scaler.transform(X)",
        "plt.plot(x, y)\nplt.title(name)\nplt.show()",
        "out = pd.DataFrame(arr)\nmore = pd.concat([df, other])",
        "for k, v in d.items():\n    print(k, v)",
        "s = sorted(items)\nn = sum(values)\nt = str(obj)",
        "total = df.groupby('a').sum()",
        "v = d.get('k')",
        "log_metric('acc', acc)",
    ],
)
def test_known_read_only_calls_change_nothing(source: str) -> None:
    analysis = cell(source, log_metric="jupyter_mlops.log_metric")
    assert analysis.mutates == frozenset(), source
    assert analysis.notes == (), source


def test_a_function_rebinding_a_global_changes_it_where_it_is_called() -> None:
    setup = analyze_cell("history = []\ndef reset():\n    global history\n    history = []\n", cell="s")
    step = analyze_cell("reset()", cell="c", outside_code={"reset": ""}, summaries=setup.summaries)
    assert step.mutates == {"history"} and not step.may_change


def test_a_fresh_copy_is_the_cells_own() -> None:
    assert cell("x = df.copy()\nx['b'] = 1").mutates == frozenset()
    assert cell("c = lst.copy()\nc.append(1)\nd = sorted(lst)\nd.reverse()").mutates == frozenset()
    assert cell("w = np.zeros(x.shape[1])\nw -= x.T @ y").mutates == frozenset()
    assert cell("x = df.mean()\nx['b'] = 1").mutates == frozenset()
    # ...a view is not: `head` may share the frame's memory.
    assert cell("x = df.head()\nx['b'] = 1").mutates == {"df"}


def test_a_function_that_only_reads_its_arguments_changes_nothing() -> None:
    analysis = cell(
        "def train(x, y, lr, epochs):\n    w = np.zeros(x.shape[1])\n    for _ in range(epochs):\n"
        "        w -= lr * x.T @ (x @ w - y)\n    return w\nw = train(xs, ys, 0.1, 3)"
    )
    assert analysis.mutates == frozenset() and analysis.notes == ()


def test_the_setup_cells_functions_are_known_to_the_steps() -> None:
    setup = analyze_cell(
        "def add_col(frame):\n    frame['c'] = 1\ndef peek(frame):\n    return frame.head()\n", cell="s"
    )
    step = analyze_cell(
        "add_col(df)\nprint(peek(other))",
        cell="c",
        outside_code={"add_col": "", "peek": ""},
        summaries=setup.summaries,
    )
    assert step.mutates == {"df"} and not step.may_change


def test_calling_a_value_may_change_it() -> None:
    # `net` is not code any cell defines: a value from a step (a torch module changes when called).
    assert cell("out = net(x)").mutates == {"net", "x"}
    assert cell("f = lst.append\nf(1)").mutates == {"lst"}
    assert cell("getattr(v, 'append')(9)").mutates == {"v"}


def test_modules_functions_and_builtins_are_code_not_values() -> None:
    analysis = cell("np.random.seed(0)\nplt.rcParams.update({})\nhelper.cache = {}\nprint.x = 1")
    assert analysis.mutates == frozenset()
    own = cell("import random\nrandom.seed(0)\nrandom.shuffle(deck)")
    assert own.mutates == {"deck"}


def test_changing_a_name_the_cell_binds_is_no_outside_change() -> None:
    analysis = cell("lst = []\nlst.append(1)\nhelper(lst)")
    assert analysis.mutates == frozenset() and analysis.notes == ()


def test_a_maybe_bound_name_changed_later_is_still_an_outside_change() -> None:
    analysis = cell("if flag:\n    lst = []\nlst.append(1)")
    assert "lst" in analysis.mutates and "lst" in analysis.maybe_binds


def test_unsure_changes_are_said_with_the_users_line() -> None:
    analysis = analyze_cell("x = 1\nhelper(df)\n", cell="c", first_line=2, outside_code=IMPORTS)
    assert analysis.may_change == {
        "df": (3, "`df` is passed to `helper(...)`, which may change it (the analysis cannot see into it)")
    }


def test_a_value_the_cell_surely_rebinds_needs_no_note() -> None:
    analysis = cell("helper(df)\ndf = 2")
    assert not analysis.may_change and analysis.notes == ()


def test_the_tables_do_not_contradict_each_other() -> None:
    assert not READ_ONLY_METHODS & RECEIVER_CHANGING_METHODS
    for path in ["len", "print", "numpy.mean", "numpy.linalg.norm", "sklearn.metrics.accuracy_score"]:
        assert function_changes_arguments(path) is False, path
    assert function_changes_arguments("numpy.random.shuffle") is True
    assert function_changes_arguments("mymodule.fn") is None
    assert "fit" not in READ_ONLY_METHODS and "fit_transform" not in READ_ONLY_METHODS
    assert "transform" in READ_ONLY_METHODS and "predict" in READ_ONLY_METHODS
    assert "next" not in READ_ONLY_FUNCTIONS and "map" not in READ_ONLY_FUNCTIONS


def test_reasons_quote_code_with_braces_as_written() -> None:
    # The reason quotes the call; braces in it once broke the message (found on pandas' own tests).
    analysis = cell("process({'k': df}[key], '{0}')")
    assert analysis.may_change["df"][1] == (
        "`df` is passed to `process(...)`, which may change it (the analysis cannot see into it)"
    )
    analysis = cell("getter({0: 1})(df)")  # getter, no known function here, may be a value
    assert set(analysis.may_change) == {"df", "getter"}
    assert analysis.may_change["df"][1].startswith("`df` is passed to `getter({0: 1})(...)`")


def test_a_setup_class_is_known_by_its_init() -> None:
    setup = analyze_cell(
        "class Holder:\n    def __init__(self, data):\n        self.data = data\n"
        "class Sorter:\n    def __init__(self, data):\n        data.sort()\n"
        "class Plain:\n    pass\n"
        "class Child(Holder):\n    pass\n",
        cell="s",
    )
    code = {name: "" for name in ("Holder", "Sorter", "Plain", "Child")}

    def step(source: str) -> CellAnalysis:
        return analyze_cell(source, cell="c", outside_code=code, summaries=setup.summaries)

    assert step("h = Holder(df)").mutates == frozenset()
    assert step("h = Holder(df)\nh.data['b'] = 1").mutates == {"df"}  # it holds df
    assert step("s = Sorter(items)").mutates == {"items"}
    assert step("p = Plain()").mutates == frozenset()
    assert set(step("c = Child(df)").may_change) == {"df"}  # an inherited __init__: unknown

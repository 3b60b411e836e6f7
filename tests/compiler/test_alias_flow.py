"""Values that may share objects stay together across steps (issue 9, items 1 and 13): a step that
may change one member of a group changes them all, and readers of any member take the group from
one producer, stored together."""

from __future__ import annotations

from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.compiler.plan import PipelinePlan
from jupyter_mlops.compiler.planner import describe
from jupyter_mlops.notebook.workspace import Workspace
from jupyter_mlops.render.plan_text import plan_text

SETUP = "import pandas as pd\n"

TITANIC = [
    ("load", "train_df = pd.DataFrame({'Age': [1.0, None]})\ntest_df = pd.DataFrame({'Age': [None, 3.0]})\n"
             "data = [train_df, test_df]\n"),
    ("ages", "for dataset in data:\n    dataset['Age'] = dataset['Age'].fillna(2.0)\n"),
    ("fit", "ages = train_df['Age'].tolist()\nprint(ages)\n"),
]  # fmt: skip


def plan(steps: list[tuple[str, str]], setup: str | None = SETUP) -> PipelinePlan:
    w = Workspace("aliases")
    if setup is not None:
        w.define_setup("", setup)
    for line, body in steps:
        w.define_component(line, body)
    return plan_pipeline(w.active)


def inputs(p: PipelinePlan, step: str) -> dict[str, str]:
    return {var: producer for var, (producer, _) in p.step(step).inputs.items()}


def test_a_loop_over_a_list_of_frames_changes_the_frames_and_fit_reads_them_after_it() -> None:
    p = plan([*TITANIC, ("submit", "print(len(test_df))\n")])
    # `ages` changes every frame `data` holds: it takes them all, even those it does not name
    assert inputs(p, "ages") == {"data": "load", "train_df": "load", "test_df": "load"}
    assert inputs(p, "fit")["train_df"] == "ages"
    assert [s.name for s in p.steps] == ["load", "ages", "fit", "submit"]
    assert ("ages", "fit") in {(a, b) for a, b, _ in p.edges}
    # `ages` loads the three from one stored group, so `data[0] is train_df` holds there
    assert p.step("load").groups == (frozenset({"data", "train_df", "test_df"}),)
    assert all(p.step("load").outputs[v] == "artifact" for v in ("data", "train_df", "test_df"))
    assert p.step("ages").groups == (frozenset({"train_df", "test_df"}),)  # read by `fit` and `submit`
    assert "    stored together: data, test_df, train_df\n" in plan_text(p)
    notes = "\n".join(describe(p)["notes"])
    assert "ages, line 3: `test_df`, `train_df`: each may be changed through `data`" in notes, notes
    assert "train_df (may change)" in dict(((a, b), label) for a, b, label in p.edges)[("ages", "fit")]


def test_a_member_no_later_step_reads_stays_behind() -> None:
    # `row` of `for row in df.itertuples()` shares objects with `by_city` (its ages appended) and with
    # `df`; a later step that may change `df` took `row` too, so `load` stored it, and failed: itertuples'
    # rows cannot be pickled. No later step names `row`: it stays in `load`.
    p = plan(
        [
            (
                "load",
                "df = pd.DataFrame({'a': [1, 2]})\nby = []\n"
                "for row in df.itertuples():\n    by.append(row.a)\n",
            ),
            ("change", "df['b'] = 1\nby.append(3)\n"),
            ("read", "print(df, by)\n"),
        ]
    )
    assert inputs(p, "change") == {"df": "load", "by": "load"}
    assert "row" not in p.step("load").outputs
    assert p.step("load").groups == (frozenset({"df", "by"}),)
    # a later step naming it: it travels as before
    q = plan(
        [
            ("load", "df = pd.DataFrame({'a': [1]})\nrows = list(df.values)\n"),
            ("c", "df['b'] = 1\n"),
            ("r", "print(rows)\n"),
        ]
    )
    assert inputs(q, "c") == {"df": "load", "rows": "load"}


def test_a_plain_alias_made_in_one_step_changes_the_original_in_a_later_one() -> None:
    p = plan(
        [
            ("make", "df = pd.DataFrame({'a': [1, 2]})\n"),
            ("alias", "d = df\n"),
            ("change", "d['b'] = 1\n"),
            ("read", "cols = sorted(df.columns)\n"),
        ]
    )
    assert inputs(p, "read")["df"] == "change"
    assert inputs(p, "change")["df"] == "alias"  # `alias` passes df on with d, stored together
    assert frozenset({"d", "df"}) in p.step("alias").groups


def test_a_dict_of_frames() -> None:
    p = plan(
        [
            ("make", "train_df = pd.DataFrame({'a': [1]})\nsets = {'train': train_df}\n"),
            ("change", "sets['train']['b'] = 2\n"),
            ("read", "train_df.columns.tolist()\n"),
        ]
    )
    assert inputs(p, "change") == {"sets": "make", "train_df": "make"}
    assert inputs(p, "read")["train_df"] == "change"


def test_plain_lists_too() -> None:
    p = plan(
        [
            ("make", "inner = [1]\nouter = [inner]\n"),
            ("change", "outer[0].append(2)\n"),
            ("read", "print(inner)\n"),
        ],
        setup=None,
    )
    assert inputs(p, "read")["inner"] == "change"


def test_a_rebound_name_leaves_its_group() -> None:
    p = plan(
        [
            ("make", "df = pd.DataFrame({'a': [1]})\nframes = [df]\n"),
            ("fresh", "df = pd.DataFrame({'z': [0]})\n"),
            ("change", "for f in frames:\n    f['y'] = 1\n"),
            ("read", "print(df.columns)\n"),
        ]
    )
    assert inputs(p, "read") == {"df": "fresh"}
    assert "df" not in inputs(p, "change")


def test_only_members_read_together_are_stored_together() -> None:
    p = plan(
        [
            ("make", "df = pd.DataFrame({'a': [1]})\nframes = [df]\n"),
            ("count", "n = len(frames)\n"),  # frames alone: its own copy of df inside is all it needs
            ("both", "same = frames[0] is df\n"),
        ]
    )
    assert inputs(p, "count") == {"frames": "make"}
    assert inputs(p, "both") == {"frames": "make", "df": "make"}
    assert p.step("make").groups == (frozenset({"df", "frames"}),)
    assert describe(p)["steps"][0]["stored_together"] == [["df", "frames"]]


def test_unrelated_values_stay_apart() -> None:
    p = plan(
        [
            ("make", "a = [1]\nb = [2]\nn = len(a)\n"),
            ("change", "a.append(3)\n"),
            ("read", "print(b, n)\n"),
        ],
        setup=None,
    )
    assert inputs(p, "read") == {"b": "make", "n": "make"}
    assert p.step("make").groups == ()


def test_loops_over_dict_values_items_and_zip_change_the_frames() -> None:
    make = (
        "make",
        "train_df = pd.DataFrame({'a': [1]})\ntest_df = pd.DataFrame({'a': [2]})\n"
        "sets = {'train': train_df, 'test': test_df}\nnames = ['train', 'test']\n",
    )
    for loop in [
        "for frame in sets.values():\n    frame['b'] = 0\n",
        "for name, frame in sets.items():\n    frame['b'] = 0\n",
        "for frame, name in zip([train_df, test_df], names):\n    frame['b'] = 0\n",
        "frames = list(sets.values())\nframes[0]['b'] = 0\n",
    ]:
        p = plan([make, ("change", loop), ("read", "print(train_df.columns, test_df.columns)\n")])
        assert inputs(p, "read") == {"train_df": "change", "test_df": "change"}, loop


def test_a_fresh_value_from_a_known_call_is_no_alias() -> None:
    p = plan(
        [
            ("make", "df = pd.DataFrame({'a': [1]})\nclean = df.dropna()\nstats = df.describe()\n"),
            ("change", "clean['b'] = 1\nstats['c'] = 2\n"),
            ("read", "print(df.columns)\n"),
        ]
    )
    assert inputs(p, "read") == {"df": "make"}


def test_links_made_in_setup_hold_in_steps() -> None:
    setup = SETUP + "train = pd.DataFrame({'a': [1]})\ndata = [train]\nLIMIT = 3\nlimits = [LIMIT]\n"
    p = plan(
        [
            ("change", "for d in data:\n    d['b'] = 1\nlimits.append(4)\n"),
            ("read", "print(train.columns, LIMIT)\n"),
        ],
        setup=setup,
    )
    assert inputs(p, "read") == {"train": "change"}  # LIMIT, a number, is setup's in every step


TRAIN = """\
import numpy as np


def train(x, y, rounds):
    w = np.zeros(x.shape[1])
    for _ in range(rounds):
        w -= 0.1 * x.T @ (x @ w - y) / len(y)
    return w


def keep(x, y):
    return x


def pack(x, y):
    box = [x]
    return box


def remember(store, item):
    store.append(item)
"""


def test_a_setup_function_returning_what_it_made_links_nothing_so_two_fits_run_side_by_side() -> None:
    p = plan(
        [
            ("load", "x = np.ones((4, 2))\ny = np.ones(4)\n"),
            ("slow", "w_slow = train(x, y, 10)\n"),
            ("fast", "w_fast = train(x, y, 100)\n"),
            ("both", "print(w_slow, w_fast)\n"),
        ],
        setup=TRAIN,
    )
    assert inputs(p, "fast") == {"x": "load", "y": "load"}  # not from `slow`: they run side by side
    assert not p.step("slow").groups and not p.step("fast").groups


def test_a_setup_function_returning_its_argument_or_a_box_of_it_still_links() -> None:
    for call in ("keep(x, y)", "pack(x, y)"):
        p = plan(
            [
                ("load", "x = [1]\ny = [2]\n"),
                ("wrap", f"z = {call}\n"),
                ("grow", "z.append(3)\n") if call.startswith("keep") else ("grow", "z[0].append(3)\n"),
                ("use", "print(x)\n"),
            ],
            setup=TRAIN,
        )
        assert inputs(p, "use")["x"] == "grow", call  # x changed through z: taken from `grow`


def test_a_setup_function_that_stores_an_argument_links_what_it_changes() -> None:
    p = plan(
        [
            ("load", "items = []\nx = [1]\n"),
            ("keep", "remember(items, x)\n"),
            ("grow", "items[0].append(2)\n"),
            ("use", "print(x)\n"),
        ],
        setup=TRAIN,
    )
    assert inputs(p, "use")["x"] == "grow"


def test_values_changed_for_one_reason_get_one_note() -> None:
    p = plan([*TITANIC, ("sizes", "print(len(train_df), len(test_df))\n")])
    notes = [str(n) for n in p.notes if n.cell == "ages" and "test_df" in str(n)]
    assert len(notes) == 1, notes  # not one for test_df and another for train_df
    assert notes[0].startswith("ages, line 3: `test_df`, `train_df`: each may be changed through `data`")
    assert notes[0].endswith("later steps that read them take them from this step")

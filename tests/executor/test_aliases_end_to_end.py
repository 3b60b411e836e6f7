"""Values that alias each other keep that link across steps, run for real (issue 9, items 1 and 13):
a change through one name reaches the other names, and a step loading several of them gets one
object where the notebook had one (`frames[0] is df`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops.compiler import compile_yaml, plan_pipeline
from jupyter_mlops.models import RunState

from .conftest import Result, Runner
from .notebook_cells import compiled, notebook_pipeline

SETUP = "%%pipeline setup\nimport numpy as np\nimport pandas as pd\n"

# The classic Titanic notebook: a list of both frames, changed in a loop.
TITANIC = [
    SETUP,
    "%%component load\n"
    "train_df = pd.DataFrame({'Age': [22.0, None, 35.0], 'Sex': ['m', 'f', 'f']})\n"
    "test_df = pd.DataFrame({'Age': [None, 40.0], 'Sex': ['f', 'm']})\n"
    "data = [train_df, test_df]\n",
    "%%component ages\n"
    "for dataset in data:\n"
    "    dataset['Age'] = dataset['Age'].fillna(30.0)\n"
    "    dataset.fillna({'Sex': 'm'}, inplace=True)\n"
    "    dataset['Female'] = (dataset['Sex'] == 'f').astype(int)\n",
    "%%component both\nassert data[0] is train_df and data[1] is test_df\nsame = True\n",
    "%%component fit\n"
    "ages = train_df['Age'].tolist()\n"
    "female = int(train_df['Female'].sum())\n"
    "test_ages = test_df['Age'].tolist()\n",
    "%%component report\nprint('REPORT', ages, female, test_ages, same)\n",
]

PLAIN_ALIAS = [
    SETUP,
    "%%component make\ndf = pd.DataFrame({'a': [1, 2]})\n",
    "%%component alias\nd = df\n",
    "%%component change\nd['b'] = d['a'] * 10\n",
    "%%component read\nassert d is df\nprint('REPORT', sorted(df.columns), df['b'].tolist())\n",
]

DICT = [
    SETUP,
    "%%component make\ntrain_df = pd.DataFrame({'x': [1, 2]})\nsets = {'train': train_df}\n",
    "%%component change\nsets['train']['y'] = sets['train']['x'] + 1\n",
    "%%component read\nassert sets['train'] is train_df\nprint('REPORT', train_df['y'].tolist())\n",
]

LISTS = [
    "%%component make\ninner = [1]\nouter = [inner, inner]\n",
    "%%component change\nouter[0].append(2)\n",
    "%%component read\nassert outer[0] is inner and outer[1] is inner\nprint('REPORT', inner, outer)\n",
]

# The repro, as the tester wrote it.
REPRO = [
    SETUP,
    "%%component a\ndf = pd.DataFrame({'x': [1, 2]}); frames = [df]\n",
    "%%component b\nfor f in frames: f['y'] = f['x'] * 2\n",
    "%%component c\nprint('REPORT', sorted(df.columns))\n",
]

VIEWS = [
    SETUP,
    "%%component make\na = np.arange(6.0)\nv = a[1:4]\nm = a.reshape(2, 3)\n"
    "grid = np.arange(4.0).reshape(2, 2)\nrow = grid[0]\n",  # two views of an array no name holds
    "%%component change\nv[0] = 99.0\nm[1, 2] = -1.0\nrow[1] = 7.0\n",
    "%%component read\nprint('REPORT', a.tolist(), v.base is not None, np.shares_memory(a, m),"
    " grid.tolist())\n",
]


def _kernel_report(cells: list[str]) -> str:
    """What the plain notebook prints, its cells run top to bottom in one namespace."""
    namespace: dict[str, object] = {}
    printed: list[str] = []

    def capture(*values: object) -> None:
        printed.append(" ".join(map(str, values)))

    namespace["print"] = capture
    for cell in cells:
        exec(cell.split("\n", 1)[1], namespace)
    return next(line for line in printed if line.startswith("REPORT"))


def _pipeline_report(run: Result) -> str:
    logs = "\n".join(run.listener.log(step) for step in run.listener.steps)
    assert run.state == RunState.SUCCEEDED, logs[-5000:]
    found = re.findall(r"^REPORT .*$", logs, re.M)
    assert len(found) == 1, logs[-3000:]
    return str(found[0])


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (TITANIC, "REPORT [22.0, 30.0, 35.0] 2 [30.0, 40.0] True"),
        (PLAIN_ALIAS, "REPORT ['a', 'b'] [10, 20]"),
        (DICT, "REPORT [2, 3]"),
        (LISTS, "REPORT [1, 2] [[1, 2], [1, 2]]"),
        (REPRO, "REPORT ['x', 'y']"),
        (VIEWS, "REPORT [0.0, 99.0, 2.0, 3.0, 4.0, -1.0] True True [[0.0, 7.0], [2.0, 3.0]]"),
    ],
    ids=["titanic", "plain-alias", "dict", "lists", "repro", "numpy-views"],
)
def test_a_change_through_one_name_reaches_the_others(
    run_pipeline: Runner, cells: list[str], expected: str
) -> None:
    assert _kernel_report(cells) == expected  # the notebook's meaning
    assert _pipeline_report(run_pipeline(compiled(cells))) == expected


def test_a_group_is_stored_once_per_member_and_loaded_once(run_pipeline: Runner) -> None:
    run = run_pipeline(compiled(TITANIC))
    _pipeline_report(run)
    made = {a.name: a for a in run.listener.artifacts if a.step == "load"}
    assert {made[n].metadata["format"] for n in ("train_df", "test_df", "data")} == {"group"}
    assert made["data"].metadata["members"] == ["data", "test_df", "train_df"]


def test_kfp_local_runs_the_titanic_form_alike(tmp_path: Path) -> None:
    """kfp.local (SubprocessRunner) runs the same YAML: each step has only its own input artifacts."""
    path = tmp_path / "titanic.yaml"
    path.write_text(compile_yaml(notebook_pipeline(TITANIC)))
    code = f"""
from kfp import components, local
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root={str(tmp_path / "root")!r})
pipeline = components.load_component_from_file({str(path)!r})
pipeline()
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "REPORT [22.0, 30.0, 35.0] 2 [30.0, 40.0] True" in out, out[-4000:]


# The Titanic tutorial's whole shape: frames rebound and the list made again, loops over it in
# several steps, a model fitted on the result.
TITANIC_LONG = [
    SETUP + "from sklearn.linear_model import LogisticRegression\n",
    "%%component load\n"
    "train_df = pd.DataFrame({\n"
    "    'Name': ['Braund, Mr. Owen', 'Cumings, Mrs. John', 'Heikkinen, Miss. Laina', 'Allen, Mr. William',\n"
    "             'Moran, Mr. James', 'Palsson, Master. Gosta'],\n"
    "    'Age': [22.0, 38.0, None, 35.0, None, 2.0], 'Ticket': list('abcdef'),\n"
    "    'Sex': ['male', 'female', 'female', 'male', 'male', 'male'], 'Survived': [0, 1, 1, 0, 0, 0],\n"
    "})\n"
    "test_df = pd.DataFrame({'Name': ['Kelly, Mr. James', 'Wilkes, Mrs. James'], 'Age': [34.5, None],\n"
    "                        'Ticket': ['x', 'y'], 'Sex': ['male', 'female']})\n"
    "combine = [train_df, test_df]\n",
    "%%component drop\n"
    "train_df = train_df.drop(['Ticket'], axis=1)\n"
    "test_df = test_df.drop(['Ticket'], axis=1)\n"
    "combine = [train_df, test_df]\n",
    "%%component titles\n"
    "for dataset in combine:\n"
    "    dataset['Title'] = dataset.Name.str.extract(r' ([A-Za-z]+)\\.', expand=False)\n"
    "    dataset['Title'] = dataset['Title'].map({'Mr': 1, 'Miss': 2, 'Mrs': 3, 'Master': 4}).fillna(0)\n",
    "%%component encode\n"
    "for dataset in combine:\n"
    "    dataset['Sex'] = dataset['Sex'].map({'female': 1, 'male': 0}).astype(int)\n"
    "    dataset.loc[dataset.Age.isnull(), 'Age'] = 30.0\n"
    "train_df = train_df.drop(['Name'], axis=1)\n"
    "test_df = test_df.drop(['Name'], axis=1)\n",
    "%%component model\n"
    "X_train = train_df.drop('Survived', axis=1)\n"
    "Y_train = train_df['Survived']\n"
    "logreg = LogisticRegression()\n"
    "logreg.fit(X_train, Y_train)\n"
    "acc = round(logreg.score(X_train, Y_train) * 100, 2)\n"
    "print('REPORT', sorted(X_train.columns), X_train['Age'].tolist(), test_df['Title'].tolist(), acc)\n",
]


def test_the_titanic_tutorial_shape_runs_as_the_notebook(run_pipeline: Runner) -> None:
    pytest.importorskip("sklearn")
    expected = _kernel_report(TITANIC_LONG)
    assert "['Age', 'Sex', 'Title']" in expected and "nan" not in expected
    plan = plan_pipeline(notebook_pipeline(TITANIC_LONG))
    assert plan.step("model").inputs["train_df"][0] == "encode"
    assert plan.step("model").inputs["test_df"][0] == "encode"
    assert _pipeline_report(run_pipeline(compiled(TITANIC_LONG))) == expected


def test_frames_sharing_memory_copy_on_write_stay_apart(run_pipeline: Runner) -> None:
    """pandas frames that share memory until written (copy on write) are not turned into views."""
    cells = [
        SETUP,
        "%%component make\ndf = pd.DataFrame({'x': [1.0, 2.0]})\nsub = df[['x']]\nboth = [df, sub]\n",
        "%%component change\nsub.loc[0, 'x'] = 99.0\n",
        "%%component read\nprint('REPORT', df['x'].tolist(), sub['x'].tolist(), both[1] is sub)\n",
    ]
    expected = _kernel_report(cells)
    assert expected == "REPORT [1.0, 2.0] [99.0, 2.0] True"
    assert _pipeline_report(run_pipeline(compiled(cells))) == expected


def test_a_lazy_copy_of_a_frame_stays_a_copy(run_pipeline: Runner) -> None:
    """`df.astype(same dtype)` shares memory until written (pandas' copy on write): stored together
    with `df`, it must still not change `df` when written."""
    cells = [
        SETUP,
        "%%component make\ndf = pd.DataFrame({'x': [1.0, 2.0]})\nboth = [df, df.astype('float64')]\n",
        "%%component change\nboth[1].iloc[0, 0] = 99.0\n",
        "%%component read\nprint('REPORT', df['x'].tolist(), both[1]['x'].tolist(), both[0] is df)\n",
    ]
    expected = _kernel_report(cells)
    assert expected == "REPORT [1.0, 2.0] [99.0, 2.0] True"
    assert _pipeline_report(run_pipeline(compiled(cells))) == expected

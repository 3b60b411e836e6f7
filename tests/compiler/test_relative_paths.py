"""Compile notes a step that reads a relative path: on Kubeflow its container will not have the file
(issue 9, item 3). The note names the cell, the user's line and the path; writes, absolute paths, URLs
and names that are not files say nothing."""

from __future__ import annotations

import pytest

from jupyter_mlops.analysis.relative_paths import relative_path_notes
from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.notebook.workspace import Workspace


@pytest.mark.parametrize(
    ("code", "path"),
    [
        ("import pandas as pd\ndf = pd.read_csv('data/train.csv')", "data/train.csv"),
        ("with open('labels.txt') as f:\n    labels = f.read().split()", "labels.txt"),
        ("import numpy as np\nX = np.load('features.npy')", "features.npy"),
        ("import numpy as np\nX = np.loadtxt(fname='x.txt')", "x.txt"),
        ("from pathlib import Path\nroot = Path('data')", "data"),
        ("import os\nfiles = os.listdir(os.path.join('data', 'raw'))", "data/raw"),
        ("import glob\nfiles = glob.glob('images/*.png')", "images/*.png"),
        ("import pandas as pd\nname = 'x'\ndf = pd.read_parquet(f'data/{name}.parquet')", "data/{…}.parquet"),
        ("import joblib\nmodel = joblib.load('model.pkl')", "model.pkl"),
        ("import matplotlib.pyplot as plt\nimg = plt.imread('./cat.png')", "./cat.png"),
        ("import pandas as pd\ndf = pd.read_excel(io='book.xlsx')", "book.xlsx"),
    ],
)
def test_a_relative_path_read_is_noted_with_its_line(code: str, path: str) -> None:
    notes = relative_path_notes(code, first_line=2)

    where = next(i for i, text in enumerate(code.splitlines()) if path[:4] in text)
    assert [line for line, _ in notes] == [where + 2]  # the user's line: the magic line is line 1
    (_, message) = notes[0]
    assert repr(path) in message and "notebook's folder" in message and "Kubeflow" in message


@pytest.mark.parametrize(
    "code",
    [
        "df.to_csv('out.csv')",
        "with open('out.txt', 'w') as f:\n    f.write('x')",
        "f = open('log.txt', mode='a')",
        "df = pd.read_csv('/data/train.csv')",
        "df = pd.read_csv('https://example.org/train.csv')",
        "df = pd.read_csv('s3://bucket/train.csv')",
        "text = open(os.path.expanduser('~/x.txt')).read()",
        "nlp = spacy.load('en_core_web_sm')",
        "tok = AutoTokenizer.from_pretrained('bert-base-uncased')",
        "df = pd.read_csv(path)",
        "df = pd.read_csv(f'{root}/train.csv')",
        "files = os.listdir('.')",
        "x = json.loads('[1, 2]')",
        "df = pd.read_csv('data/x.csv'",  # does not parse: the compile error speaks, not a note
    ],
)
def test_what_is_not_a_relative_read_says_nothing(code: str) -> None:
    assert relative_path_notes(code) == []


def test_ipython_lines_do_not_shift_the_line_numbers() -> None:
    code = "%time import pandas as pd\n\ndf = pd.read_csv(\n    'data/train.csv',\n)"
    assert [line for line, _ in relative_path_notes(code, first_line=2)] == [4]


def test_the_plan_notes_relative_reads_naming_cell_and_line() -> None:
    workspace = Workspace("notes")
    workspace.define_component("load", "import pandas as pd\n\ndf = pd.read_csv('data/train.csv')\n")
    workspace.define_component("use", "n = len(df)\nwith open('n.txt', 'w') as f:\n    f.write(str(n))\n")

    notes = [n for n in plan_pipeline(workspace.active).notes if "relative path" in n.message]

    assert [(n.cell, n.line) for n in notes] == [("load", 4)]
    assert "load, line 4: read_csv('data/train.csv') uses a relative path" in str(notes[0])

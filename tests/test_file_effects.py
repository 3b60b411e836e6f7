"""Which cells read or write files: the lines real notebooks use to save and load data, figures and models."""

from __future__ import annotations

import pytest

from jupyter_mlops.analysis.file_effects import FileEffects, file_effects, setup_helpers


def effects(source: str, **kwargs: object) -> FileEffects:
    return file_effects(source, **kwargs)  # type: ignore[arg-type]


WRITES = [
    "df.to_csv('out/train.csv', index=False)",
    "df.to_parquet(path)",
    "df.to_json(os.path.join(root, 'a.json'))",
    "df.to_csv(path_or_buf=target)",
    "open('out/a.txt', 'w').write('a')",
    "open('log.txt', 'a').write('more')",
    "open('x.bin', mode='wb')",
    "f = open(name, 'r+')",
    "f = open(name, mode)",  # a mode it cannot know: it may write
    "with open('notes.txt', 'w') as f:\n    f.write('x')",
    "from pathlib import Path\nPath('figures').mkdir(exist_ok=True)",
    "Path('out', 'a.txt').write_text('a')",
    "p = Path(root) / 'out'\np.mkdir(parents=True)",
    "os.makedirs('out', exist_ok=True)",
    "import os\nos.makedirs(os.path.join(root, 'out'), exist_ok=True)",
    "from os import makedirs\nmakedirs('out')",
    "os.remove('out/a.txt')",
    "import shutil\nshutil.rmtree('out')",
    "shutil.copy('a.csv', 'b.csv')",
    "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('figures/fit.png')",
    "fig, ax = plt.subplots()\nfig.savefig(out_path, dpi=100)",
    "import numpy as np\nnp.save('arr.npy', a)",
    "np.savetxt(name, a)",
    "import json\nwith open('m.json', 'w') as f:\n    json.dump(d, f)",
    "json.dump(d, fp)",
    "import pickle\npickle.dump(model, fh)",
    "import joblib\njoblib.dump(model, 'model.joblib')",
    "import tarfile\ntarfile.open('a.tar.gz', 'w:gz').add('out')",
    "import zipfile\nwith zipfile.ZipFile('a.zip', 'w') as z:\n    z.write('a.txt')",
    "import subprocess\nsubprocess.run(['make', 'all'])",
    "model.save('model.keras')",
    "def save(d):\n    with open('d.txt', 'w') as f:\n        f.write(str(d))\n\nsave(3)",
    "store_results(scores, 'results/scores.csv')",  # unknown function given a path: may write
    "y = [x for x in range(3)]\nexport_table(df, f'{root}/tables/t.csv')",
    "with pd.ExcelWriter('out.xlsx') as w:\n    df.to_excel(w)",
    "wget.download(url, out='data/')",  # 'download' holds 'load' but does not read
    "scipy.io.savemat('data.mat', {'a': a})",
    "import polars as pl\nframe.write_parquet(target)",
    "tf.keras.utils.plot_model(model, to_file='model.png')",
    "Image.fromarray(arr).save('a.png')",
    "import torch\ntorch.save(model.state_dict(), 'm.pt')",
    "s3.put_object(Bucket='data', Key='out/scores.csv', Body=text)",
    "s3.download_file('data', 'raw/train.csv', 'train.csv')",  # writes the local copy
]

READS = [
    "df = pd.read_csv('data/train.csv')",
    "import pandas as pd\ndf = pd.read_parquet(path)",
    "text = open('out/a.txt').read()",
    "text = open('out/a.txt', 'r').read()",
    "with open('a.txt') as f:\n    lines = f.readlines()",
    "names = os.listdir('figures')",
    "names = sorted(os.listdir(os.path.join(root, 'out')))",
    "ok = os.path.exists('out/a.txt')",
    "import glob\nfiles = glob.glob('figures/*.png')",
    "a = np.load('arr.npy')",
    "a = np.loadtxt(name)",
    "m = joblib.load('model.joblib')",
    "cfg = json.load(open('cfg.json'))",
    "text = Path('a.txt').read_text()",
    "files = list(Path('figures').iterdir())",
    "img = Image.open('photo.jpg')",  # an unknown function given a path whose name says it reads
    "with zipfile.ZipFile('a.zip') as z:\n    names = z.namelist()",
    "mlflow.log_artifact('out/model.pkl')",
    "frames = [load_frame(f'data/{name}.csv') for name in names]",
    "files = listFiles('data/')",
    "import polars as pl\nframe = pl.read_csv(source)",
    "import scipy.io\nm = scipy.io.loadmat('data.mat')",  # a word starting with 'load'
    "body = s3.get_object(Bucket='data', Key='raw/train.csv')['Body'].read()",  # boto3: fetches
    "key = 'raw/train.csv'\nobj = client.get_object(Bucket=bucket, Key=key)",
    "blob = fetch_blob('models/latest.pkl')",
]

NEITHER = [
    "x = 1\ny = x + 2",
    "df = df.dropna()\nmodel.fit(X, y)\nscore = model.score(X, y)",
    "s = df.to_csv()",  # no path: returns the text
    "d = df.to_dict()\nv = df.to_numpy()",
    "print('saved to out/a.txt')",
    "plt.xlabel('speed (km/h)')\nplt.title('fit / residuals')",
    "ax.set_ylabel('km/h')",
    "when = pd.to_datetime(df['d'], format='%d/%m/%Y')",
    "p = os.path.join(root, 'out', 'a.txt')",  # builds a path, touches nothing
    "name = path.replace('/', '_')\nok = name.endswith('.csv')",
    "r = requests.get('https://example.org/data.csv')",
    "import json\ns = json.dumps(d)\nd2 = json.loads(s)",
    "df = df.rename(columns={'a': 'b'})",
    "def f(x):\n    return x * 2\n\ny = f(3)",
    "import re\nresult = re.sub(r'\\d+/\\d+', '', s)",
    "result = re.sub(r'\\d+/\\d+', '', s)",  # re imported in another cell
    "writer.add_scalar('loss/train', loss, step)",  # TensorBoard tags are names
    "log_metric('acc/val', 0.9)\nmlflow.log_param('split', 'train/test')",
    "df.groupby('city').agg({'price': 'mean'})\nsns.histplot(df, x='price/sqft')",
    "df['date'] = df['date'].dt.strftime('%Y/%m/%d')",
    "tokens = text.split('/')\nparts = s.str.split('/')",
]


@pytest.mark.parametrize("source", WRITES)
def test_lines_that_write_files(source: str) -> None:
    found = effects(source)
    assert found.writes_files, source
    assert found.write is not None and found.write.line >= 1 and found.write.what


@pytest.mark.parametrize("source", READS)
def test_lines_that_only_read_files(source: str) -> None:
    found = effects(source)
    assert found.reads_files and not found.writes_files, (source, found)
    assert found.read is not None and found.read.what


@pytest.mark.parametrize("source", NEITHER)
def test_lines_that_touch_no_files(source: str) -> None:
    found = effects(source)
    assert not found.uses_files, (source, found)


def test_the_first_line_of_each_effect_in_the_users_numbering() -> None:
    source = "x = 1\nnames = os.listdir('out')\ny = 2\nplt.savefig('figures/a.png')\nopen('b.txt', 'w')\n"
    found = effects(source, first_line=2)  # a %%component body: its first line is the cell's line 2
    assert found.read is not None and found.read.line == 3 and "os.listdir" in found.read.what
    assert found.write is not None and found.write.line == 5 and "savefig" in found.write.what


def test_a_write_inside_a_function_counts_where_it_is_written() -> None:
    source = "def save(d):\n    with open('d.txt', 'w') as f:\n        f.write(str(d))\n\nsave(3)\n"
    found = effects(source)
    assert found.write is not None and found.write.line == 2 and "open" in found.write.what


def test_ipython_lines_are_read_as_the_step_runs_them() -> None:
    found = effects("%%time\n\nplt.savefig('a.png')\n", first_line=2)
    assert found.write is not None and found.write.line == 4


def test_a_setup_helper_that_writes_makes_its_callers_writers() -> None:
    helpers = setup_helpers(
        "import matplotlib.pyplot as plt\n\ndef save_fig(name):\n    plt.savefig(f'figures/{name}.png')\n"
        "\ndef load(name):\n    return open(name).read()\n\ndef square(x):\n    return x * x\n"
    )
    assert set(helpers) == {"save_fig", "load"}
    called = effects("plt.plot([1])\nsave_fig('fit')\n", helpers=helpers)
    assert called.write is not None and called.write.line == 2 and "save_fig" in called.write.what
    reader = effects("text = load('x')\n", helpers=helpers)
    assert reader.reads_files and not reader.writes_files
    assert not effects("y = square(3)\n", helpers=helpers).uses_files


def test_a_name_assigned_a_path_counts_when_passed_on() -> None:
    assert effects("out = 'results/scores.csv'\nstore_results(scores, out)\n").writes_files
    assert not effects("label = 'scores'\nstore_results(scores, label)\n").uses_files


def test_imports_elsewhere_decide_what_a_name_means() -> None:
    # `save` imported from numpy in another cell: a step calling save(...) writes.
    assert effects("save(name, a)\n", aliases={"save": "numpy.save"}).writes_files
    assert not effects("save(name, a)\n").uses_files


def test_pathlib_methods_by_what_they_do() -> None:
    assert effects("p = Path(root) / 'a.txt'\nf = p.open('w')\n").writes_files
    assert not effects("p = Path(root) / 'a.txt'\nf = p.open()\n").writes_files
    assert effects("from pathlib import Path\nok = Path(root, 'out').exists()\n").reads_files
    assert effects("p = Path('a.txt')\np.rename('b.txt')\n").writes_files
    assert effects("p = Path('out')\nq = p / 'a.txt'\nq.unlink()\n").writes_files
    # the same method names on a DataFrame or a string touch no files
    assert not effects("df = df.rename(columns=str.upper)\nok = df.empty\n").uses_files
    assert not effects("name = stem.replace('a', 'b')\n").uses_files


def test_names_holding_paths_from_elsewhere_count_when_passed_to_a_call() -> None:
    # `out_dir` a parameter or a setup value holding "results/": an unknown call given it may write
    assert effects("store(scores, out_dir)\n", path_names={"out_dir"}).writes_files
    assert effects("frame = load_table(out_dir)\n", path_names={"out_dir"}).reads_files
    assert not effects("store(scores, out_dir)\n").uses_files  # the documented limit without it
    assert not effects("print(out_dir)\np = os.path.join(out_dir, 'x')\n", path_names={"out_dir"}).uses_files


def test_a_value_read_from_a_path_is_data_not_a_path() -> None:
    # `raw` holds a frame read from a file; handing it (or what is computed from it) on touches no file.
    source = "raw = pd.read_csv('out/raw.csv')\nhistory = []\nhistory.append(raw['c'].mean())\n"
    found = effects(source)
    assert found.reads_files and not found.writes_files, found
    rows = "rows = load_rows('data/a.csv')\nkeep(rows[:10])\n"
    assert not effects(rows).writes_files


@pytest.mark.parametrize(
    "built",
    [
        "out = 'results/' + name",
        "out = f'results/{name}.csv'",
        "out = 'results/%s.csv' % name",
        "out = os.path.join(base, 'scores.csv')",
        "out = 'results/{}.csv'.format(name)",
        "base = 'results/'\nout = base + name",
        "out = 'a.csv' if small else 'b.csv'",
    ],
)
def test_a_path_built_as_text_still_counts_when_passed_on(built: str) -> None:
    assert effects(built + "\nstore_results(scores, out)\n").writes_files, built

"""`mlops.log_embedding` writes projector files that a real TensorBoard reads: values, labels, several
tags, odd labels; next to tensorboardX's `add_embedding` in one logdir; with neither TF nor torch."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.errors import UsageError

from .conftest import Board

Start = Callable[[Any], Board]


def test_vectors_and_labels_load_in_tensorboards_projector(tmp_path: Path, tensorboard: Start) -> None:
    vectors = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, 0.25], [3.5, 2.0, -4.0], [0.125, 9.0, 1.0]])
    mlops.log_embedding(vectors, ["cat", "dog", "fish", "bird"], logdir=tmp_path / "run")

    board = tensorboard(str(tmp_path))
    assert board.json("data/plugin/projector/runs") == ["run"]
    info = board.projector_info("run")
    assert list(info) == ["embedding:00000"]
    assert info["embedding:00000"]["tensorShape"] == [4, 3]
    assert board.tensor("run", "embedding:00000") == vectors.astype("float32").tolist()
    assert board.metadata("run", "embedding:00000") == [["cat"], ["dog"], ["fish"], ["bird"]]


def test_several_tags_and_steps_add_up_in_one_run_and_a_rewrite_replaces(
    tmp_path: Path, tensorboard: Start
) -> None:
    run = tmp_path / "run"
    mlops.log_embedding([[1, 2], [3, 4]], ["a", "b"], tag="words", logdir=run)
    mlops.log_embedding([[5, 6, 7]], {"name": ["x"], "kind": ["k"]}, tag="layer/out", logdir=run)
    mlops.log_embedding([[8, 9], [1, 1]], ["c", "d"], tag="words", logdir=run, step=3)
    mlops.log_embedding([[0, 1], [1, 0]], ["a2", "b2"], tag="words", logdir=run)  # the same tag and step

    board = tensorboard(str(tmp_path))
    info = board.projector_info("run")
    assert sorted(info) == ["layer/out:00000", "words:00000", "words:00003"]
    assert board.tensor("run", "words:00000") == [[0, 1], [1, 0]]
    assert board.metadata("run", "words:00000") == [["a2"], ["b2"]]
    assert board.tensor("run", "words:00003") == [[8, 9], [1, 1]]
    assert board.metadata("run", "layer/out:00000") == [["name", "kind"], ["x", "k"]]


def test_odd_labels_keep_one_row_per_point(tmp_path: Path, tensorboard: Start) -> None:
    labels = ["tab\there", "line\nbreak", "", "   ", "crlf\r\nend", "ünï 日本", 'quote "q"', None]
    vectors = [[float(i), 1.0] for i in range(len(labels))]
    mlops.log_embedding(vectors, labels, logdir=tmp_path / "run")

    board = tensorboard(str(tmp_path))
    rows = board.metadata("run", "embedding:00000")
    assert rows == [
        ["tab here"], ["line break"], ["(empty)"], ["(empty)"], ["crlf end"], ["ünï 日本"], ['quote "q"'],
        ["None"],
    ]  # fmt: skip
    assert len(board.tensor("run", "embedding:00000")) == len(labels)


def test_columns_from_a_dataframe_and_from_rows(tmp_path: Path, tensorboard: Start) -> None:
    import pandas as pd

    frame = pd.DataFrame({"word": ["a", "b", "c"], "count": [1, 2, 3]})
    mlops.log_embedding(np.eye(3), frame, tag="frame", logdir=tmp_path / "run")
    mlops.log_embedding(np.eye(3), [("a", 1), ("b", 2), ("c", 3)], tag="rows", logdir=tmp_path / "run")

    board = tensorboard(str(tmp_path))
    assert board.metadata("run", "frame:00000") == [["word", "count"], ["a", "1"], ["b", "2"], ["c", "3"]]
    assert board.metadata("run", "rows:00000") == [["label", "column_2"], ["a", "1"], ["b", "2"], ["c", "3"]]


def test_sprite_thumbnails_are_served(tmp_path: Path, tensorboard: Start) -> None:
    images = np.zeros((4, 6, 5))
    images[1] = 1.0
    mlops.log_embedding(np.eye(4), list("abcd"), images=images, logdir=tmp_path / "run")

    board = tensorboard(str(tmp_path))
    sprite = board.projector_info("run")["embedding:00000"]["sprite"]
    assert sprite["singleImageDim"] == [5, 6]  # width, height, as torch writes them
    png = board.raw("data/plugin/projector/sprite_image", run="run", name="embedding:00000")
    assert png.startswith(b"\x89PNG")
    import io

    from PIL import Image

    picture = Image.open(io.BytesIO(png)).convert("RGB")
    assert picture.size == (10, 12)  # a 2 x 2 grid of 5 x 6 images
    assert picture.getpixel((0, 0)) == (0, 0, 0) and picture.getpixel((5, 0)) == (255, 255, 255)


def test_tensorboardx_and_our_files_load_side_by_side(tmp_path: Path, tensorboard: Start) -> None:
    tbx = pytest.importorskip("tensorboardX")
    writer = tbx.SummaryWriter(str(tmp_path / "mixed"))
    writer.add_embedding(np.array([[1.0, 2.0], [3.0, 4.0]]), metadata=["p", "q"], tag="theirs")
    writer.close()
    mlops.log_embedding([[5.0, 6.0], [7.0, 8.0]], ["r", "s"], tag="ours", logdir=tmp_path / "mixed")

    board = tensorboard(str(tmp_path))
    info = board.projector_info("mixed")
    assert sorted(info) == ["ours:00000", "theirs:00000"]
    assert board.tensor("mixed", "theirs:00000") == [[1.0, 2.0], [3.0, 4.0]]
    assert board.metadata("mixed", "theirs:00000") == [["p"], ["q"]]
    assert board.tensor("mixed", "ours:00000") == [[5.0, 6.0], [7.0, 8.0]]
    assert board.metadata("mixed", "ours:00000") == [["r"], ["s"]]


def test_writing_needs_neither_tensorflow_nor_torch(tmp_path: Path) -> None:
    code = (
        "import sys, jupyter_mlops as mlops\n"
        f"mlops.log_embedding([[1, 2], [3, 4]], ['a', 'b'], logdir={str(tmp_path)!r})\n"
        "mlops.log_metric('loss', 0.5)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'torch', 'tensorboard')))\n"
    )
    env_home = {"JUPYTER_MLOPS_HOME": str(tmp_path / "home")}

    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env_home},
    )
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "projector_config.pbtxt").is_file()


@pytest.mark.parametrize(
    ("vectors", "metadata", "message"),
    [
        ([], None, "non-empty 2-D"),
        ([[1, 2], [3]], None, "same length"),
        ([[1, float("nan")]], None, "NaN"),
        ([[1, 2], [3, 4]], ["only one"], "2 vectors but 1 labels"),
        ([["a", 2]], None, "non-number"),
    ],
)
def test_bad_input_says_what_is_wrong(tmp_path: Path, vectors: Any, metadata: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        mlops.log_embedding(vectors, metadata, logdir=tmp_path)
    assert not (tmp_path / "projector_config.pbtxt").exists()

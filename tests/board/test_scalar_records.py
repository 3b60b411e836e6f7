"""Scalar points as TensorBoard event records, written fast (issue 15: 50,000 `log_metric` points cost
most of their time in a byte-at-a-time CRC-32C and in re-encoding what does not change per point), read
back by TensorBoard's own event file loader; and the metrics file line of a point, written out directly,
is the JSON json.dumps gave."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from jupyter_mlops.step_runtime.run import _mlops_metric_line
from jupyter_mlops.step_runtime.tensorboard import (
    _mlops_crc32c,
    _mlops_event,
    _mlops_record,
    _mlops_scalar_record,
)
from jupyter_mlops.tensorboards import files


def _bitwise_crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def test_crc32c_gives_the_castagnoli_checksums() -> None:
    # RFC 3720 (iSCSI) B.4 and the usual check value
    assert _mlops_crc32c(b"123456789") == 0xE3069283
    assert _mlops_crc32c(bytes(32)) == 0x8A9136AA
    assert _mlops_crc32c(b"\xff" * 32) == 0x62A8AB43
    assert _mlops_crc32c(bytes(range(32))) == 0x46DD794E
    assert _mlops_crc32c(b"") == 0
    for size in range(0, 70):  # odd and even lengths
        data = os.urandom(size)
        assert _mlops_crc32c(data) == _bitwise_crc32c(data), data


@pytest.mark.parametrize("tag", ["loss", "é/accuracy", "t" * 300])
def test_a_scalar_record_is_the_general_event_record(tag: str) -> None:
    for step in (0, 1, 127, 128, 16_383, 16_384, 2**40, -1):
        for value in (0.5, -3.25, 1e30, float("inf"), float("nan")):
            fast = _mlops_scalar_record(1_764_450_000.25, step, tag, value)
            assert fast == _mlops_record(_mlops_event(1_764_450_000.25, step, {tag: value})), (step, value)


def _f32(value: float) -> float:
    """`value` as the 32-bit float an event holds."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _points(path: Path) -> list[tuple[str, int, float, float]]:
    out = []
    for event in EventFileLoader(str(path)).Load():
        for value in event.summary.value:
            number = value.simple_value if value.HasField("simple_value") else value.tensor.float_val[0]
            out.append((value.tag, event.step, number, event.wall_time))
    return out


def test_tensorboards_loader_reads_every_scalar_record(tmp_path: Path) -> None:
    path = tmp_path / "events.out.tfevents.1.host.1.mlops"
    written = [("loss", i * 37, 1.0 / (i + 1), 1000.0 + i) for i in range(3000)]
    written += [("é/acc", 5, 0.75, 2000.0)]
    with path.open("wb") as f:
        f.write(_mlops_record(_mlops_event(999.0, 0)))
        for tag, step, value, at in written:
            f.write(_mlops_scalar_record(at, step, tag, value))

    assert _points(path) == [(tag, step, _f32(value), at) for tag, step, value, at in written]


@pytest.mark.parametrize("name", ["loss", 'a "quoted"\tname é'])
def test_a_metrics_file_line_is_the_json_of_the_point(name: str) -> None:
    steps: list[Any] = [None, 0, 12_345, -5, True]
    for value in (0.1, 3.0, -0.0, 1e300, 5e-324, float("nan"), float("inf"), float("-inf")):
        for step in steps:
            for at in (1_764_452_400.123456, 0.0):
                expected = json.dumps({"name": name, "value": value, "step": step, "time": at}) + "\n"
                assert _mlops_metric_line(name, value, step, at) == expected


def test_session_points_go_to_one_events_file_kept_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`log_metric` in a plain cell: the logdir is listed once, not once a point; every point is in the
    file at once (flushed); a file removed meanwhile is made again."""
    logdir = str(tmp_path / "logs")
    listed = []
    real_listdir = os.listdir

    def listdir(path: Any) -> list[str]:
        listed.append(path)
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", listdir)
    for i in range(200):
        files.write_scalar(logdir, "loss", 1.0 / (i + 1), None)
    assert len(listed) == 1
    monkeypatch.undo()
    (event_file,) = Path(logdir).iterdir()
    assert [(step, value) for _, step, value, _ in _points(event_file)] == [
        (i, _f32(1.0 / (i + 1))) for i in range(200)
    ]

    event_file.unlink()  # the logdir cleared while the kernel runs
    files.write_scalar(logdir, "loss", 0.5, 7)
    (again,) = Path(logdir).iterdir()
    assert [(step, value) for _, step, value, _ in _points(again)] == [(7, 0.5)]

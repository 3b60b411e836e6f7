"""Step logs read in pieces from byte offsets, as `--follow` and the live view read a growing log."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.store.logs import read_log, step_log_path


def test_a_big_log_with_multibyte_text_reads_back_whole_in_chunks(tmp_path: Path) -> None:
    text = "".join(f"line {i}: température ✓ 日本語\n" for i in range(200_000))  # ~7 MB
    path = tmp_path / "step.log"
    path.write_text(text, encoding="utf-8")
    parts, offset, chunks = [], 0, 0
    while True:
        chunk, next_offset = read_log(path, offset, final=True, limit=1 << 20)
        if next_offset == offset:
            break
        parts.append(chunk)
        offset, chunks = next_offset, chunks + 1
    assert "".join(parts) == text  # no character split or lost at a chunk boundary
    assert chunks > 5 and offset == path.stat().st_size


def test_a_partly_written_character_waits_for_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "step.log"
    path.write_bytes("ok ✓".encode()[:-1])  # the check mark's last byte is not written yet
    text, offset = read_log(path, 0)
    assert (text, offset) == ("ok ", 3)
    with path.open("ab") as f:
        f.write("✓".encode()[-1:] + b" done\n")
    assert read_log(path, offset) == ("✓ done\n", path.stat().st_size)


def test_a_missing_log_is_empty_and_bad_offsets_are_refused(tmp_path: Path) -> None:
    assert read_log(tmp_path / "nothing.log", 0) == ("", 0)
    with pytest.raises(ValueError, match="offset must be >= 0"):
        read_log(tmp_path / "nothing.log", -1)


@pytest.mark.parametrize("step", ["../../etc/passwd", "/abs/path", "..", "loop[0].train", "a b/c"])
def test_step_names_never_escape_the_runs_log_directory(tmp_path: Path, step: str) -> None:
    path = step_log_path(tmp_path / "run", step)
    assert path.parent == tmp_path / "run" / "logs" and path.suffix == ".log"

# TensorBoard files written with the standard library only: scalar event files and the Embedding
# Projector's files, in the layout `SummaryWriter.add_embedding` (torch, tensorboardX) writes.
#
# Inlined into every compiled step like values.py (before run.py, which gives the step's
# `mlops.log_embedding` and the event files of `log_metric`), and imported by the kernel's
# `mlops.log_embedding`, so a cell writes the same files in the notebook and as a step. Standard
# library only (a step runs on a stock python image: no tensorboard, TensorFlow or PyTorch), no
# module-level code but imports and definitions, names starting with `_mlops_`.
#
# Layout, per logdir (one TensorBoard "run"):
#   projector_config.pbtxt           one `embeddings { ... }` block per (tag, step); a block of the same
#                                    tensor name is replaced, other blocks (ours or torch's) are kept
#   <step:05d>/<tag>/tensors.tsv     N lines of D tab-separated floats (never binary: see FACTS)
#   <step:05d>/<tag>/metadata.tsv    one label per line; a header row when there are 2+ columns
#   <step:05d>/<tag>/sprite.png      optional thumbnails, one grid image
#   events.out.tfevents.*            TensorBoard lists a run only when it holds an events file
import hashlib
import math
import os
import re
import socket
import struct
import time
import zlib
from typing import Any, Dict, List, Optional, Tuple

_MLOPS_EMPTY_LABEL = "(empty)"


def _mlops_crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum of TFRecord framing: four bytes a step ("slicing by 4":
    four tables of what a byte does to the running value from 1-4 bytes back, built on the first call;
    small enough to stay in the CPU's cache, unlike a table of 16-bit steps)."""
    # Kept on the function: the step runtime has no module-level state (runtime_source pastes functions).
    tables = getattr(_mlops_crc32c, "tables", None)  # type: Optional[List[List[int]]]
    if tables is None:
        table = []  # type: List[int]
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        tables = [table]
        for _ in range(3):
            tables.append([(c >> 8) ^ table[c & 0xFF] for c in tables[-1]])
        _mlops_crc32c.tables = tables  # type: ignore[attr-defined]
    t0, t1, t2, t3 = tables
    crc = 0xFFFFFFFF
    words = len(data) >> 2
    for word in struct.unpack_from("<%dI" % words, data):
        crc ^= word
        crc = t3[crc & 0xFF] ^ t2[(crc >> 8) & 0xFF] ^ t1[(crc >> 16) & 0xFF] ^ t0[crc >> 24]
    for byte in data[words << 2 :]:
        crc = t0[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _mlops_masked_crc(data: bytes) -> int:
    crc = _mlops_crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _mlops_varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # int64 as protobuf encodes it (negative: ten bytes)
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _mlops_field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (strings, embedded messages)."""
    return _mlops_varint(number << 3 | 2) + _mlops_varint(len(payload)) + payload


def _mlops_event(wall_time: float, step: int, scalars: Optional[Dict[str, float]] = None) -> bytes:
    """A tensorflow.Event: the file-version record when `scalars` is None, else a Summary of
    simple values (what TensorBoard's scalars and time series dashboards read)."""
    head = b"\x09" + struct.pack("<d", wall_time) + b"\x10" + _mlops_varint(step)
    if scalars is None:
        return head + _mlops_field(3, b"brain.Event:2")
    values = b"".join(
        _mlops_field(1, _mlops_field(1, tag.encode("utf-8")) + b"\x15" + struct.pack("<f", value))
        for tag, value in scalars.items()
    )
    return head + _mlops_field(5, values)


def _mlops_record(payload: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the payload, its masked CRC."""
    length = struct.pack("<Q", len(payload))
    return (
        length
        + struct.pack("<I", _mlops_masked_crc(length))
        + payload
        + struct.pack("<I", _mlops_masked_crc(payload))
    )


def _mlops_scalar_record(wall_time: float, step: int, tag: str, value: float) -> bytes:
    """The TFRecord of one scalar point: `_mlops_record(_mlops_event(wall_time, step, {tag: value}))`,
    with what does not change from point to point (the tag's bytes, the record's length and its
    checksum) made once per tag and length."""
    known = getattr(_mlops_scalar_record, "known", None)  # type: Optional[Dict[Any, bytes]]
    if known is None:
        known = _mlops_scalar_record.known = {}  # type: ignore[attr-defined]
    tail = known.get(tag)
    if tail is None:  # the Summary field up to the value's 4 bytes
        simple = _mlops_field(1, tag.encode("utf-8")) + b"\x15"  # the tag, then the float's field key
        value_field = b"\x0a" + _mlops_varint(len(simple) + 4) + simple  # ... + the float's 4 bytes
        tail = known[tag] = b"\x2a" + _mlops_varint(len(value_field) + 4) + value_field
    if 0 <= step < 128:
        varint = bytes((step,))
    elif 0 < step < 16384:  # a training loop's steps: two bytes, without the general loop
        varint = bytes(((step & 0x7F) | 0x80, step >> 7))
    else:
        varint = _mlops_varint(step)
    payload = struct.pack("<BdB", 9, wall_time, 16) + varint + tail + struct.pack("<f", value)
    head = known.get(len(payload))
    if head is None:
        length = struct.pack("<Q", len(payload))
        head = known[len(payload)] = length + struct.pack("<I", _mlops_masked_crc(length))
    return head + payload + struct.pack("<I", _mlops_masked_crc(payload))


def _mlops_events_file(logdir: str) -> str:
    """This process's events file in `logdir`, made (with its version record) on first use."""
    os.makedirs(logdir, exist_ok=True)
    suffix = ".%s.%d.mlops" % (socket.gethostname() or "host", os.getpid())
    for name in sorted(os.listdir(logdir)):
        if name.startswith("events.out.tfevents.") and name.endswith(suffix):
            return os.path.join(logdir, name)
    path = os.path.join(logdir, "events.out.tfevents.%010d%s" % (int(time.time()), suffix))
    with open(path, "ab") as f:
        f.write(_mlops_record(_mlops_event(time.time(), 0)))
    return path


def _mlops_plain(value: Any) -> Any:
    """Nested lists from numpy arrays, torch or TensorFlow tensors (duck-typed: none is imported)."""
    for name in ("detach", "cpu"):
        if callable(getattr(value, name, None)) and type(value).__module__.startswith("torch"):
            value = getattr(value, name)()
    if callable(getattr(value, "tolist", None)):
        return value.tolist()
    if callable(getattr(value, "numpy", None)):
        return value.numpy().tolist()
    if hasattr(value, "to_numpy"):  # a pandas DataFrame of features
        return value.to_numpy().tolist()
    return value


def _mlops_matrix(vectors: Any) -> List[List[float]]:
    rows = _mlops_plain(vectors)
    if isinstance(rows, (str, bytes)) or not hasattr(rows, "__len__") or not len(rows):
        raise ValueError("log_embedding: vectors must be a non-empty 2-D array (N points x D numbers)")
    matrix = []  # type: List[List[float]]
    for i, row in enumerate(rows):
        row = _mlops_plain(row)
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            raise ValueError("log_embedding: vectors must be 2-D (N x D); row %d is %r" % (i, row))
        try:
            floats = [float(x) for x in row]
        except (TypeError, ValueError):
            raise ValueError("log_embedding: row %d of vectors holds a non-number" % i) from None
        if not floats or (matrix and len(floats) != len(matrix[0])):
            raise ValueError(
                "log_embedding: every vector must have the same length; row 0 has %d numbers, row %d has %d"
                % (len(matrix[0]) if matrix else len(floats), i, len(floats))
            )
        if not all(math.isfinite(x) for x in floats):
            raise ValueError("log_embedding: row %d of vectors holds NaN or infinity" % i)
        matrix.append(floats)
    return matrix


def _mlops_label(value: Any) -> str:
    """A label as one TSV cell: tabs and line breaks would shift columns and rows, a blank line
    would shift every later point's label."""
    text = re.sub(r"[\t\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+", " ", str(value)).strip()
    return text or _MLOPS_EMPTY_LABEL


def _mlops_columns(metadata: Any, count: int) -> Tuple[List[str], List[List[Any]]]:
    """(header, columns) from a list of labels, a dict of columns, a DataFrame, or rows/columns as
    lists of lists (rows when there is one per point, else columns of one value per point)."""
    if hasattr(metadata, "columns") and hasattr(metadata, "to_dict"):  # a pandas DataFrame
        metadata = {str(c): list(metadata[c]) for c in metadata.columns}
    if isinstance(metadata, dict):
        header = [str(k) for k in metadata]
        columns = [list(_mlops_plain(v)) for v in metadata.values()]
    else:
        items = list(_mlops_plain(metadata))
        nested = [isinstance(x, (list, tuple)) for x in items]
        if items and all(nested):
            if len(items) == count:
                width = len(items[0])
                if any(len(r) != width for r in items):
                    raise ValueError("log_embedding: every metadata row needs the same number of columns")
                columns = [[r[j] for r in items] for j in range(width)]
            else:
                columns = [list(c) for c in items]
            header = ["label"] + ["column_%d" % (j + 1) for j in range(1, len(columns))]
        else:
            header, columns = ["label"], [items]
    for j, column in enumerate(columns):
        name = header[j]
        if len(column) != count:
            raise ValueError(
                "log_embedding: %d vectors but %d labels in metadata column %r: give one label per vector"
                % (count, len(column), name)
            )
    return header, columns


def _mlops_png(pixels: List[List[Tuple[int, int, int]]]) -> bytes:
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(v for px in row for v in px) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def _mlops_sprite(images: Any, count: int) -> Tuple[bytes, int, int]:
    """(PNG bytes, image height, width): N images (N x H x W grey or N x H x W x 3 colour; floats in
    [0, 1] or integers 0-255) laid out on a square grid, as the projector expects."""
    items = _mlops_plain(images)
    if len(items) != count:
        raise ValueError(
            "log_embedding: %d vectors but %d images: give one image per vector" % (count, len(items))
        )
    scale = 255.0 if any(isinstance(v, float) for v in _mlops_first_pixel(items[0])) else 1.0
    height, width = len(items[0]), len(items[0][0])
    side = math.ceil(math.sqrt(count))
    blank = (255, 255, 255)
    pixels = [[blank] * (side * width) for _ in range(side * height)]
    for n, image in enumerate(items):
        if len(image) != height or any(len(row) != width for row in image):
            raise ValueError("log_embedding: image %d is not %d x %d like image 0" % (n, height, width))
        top, left = (n // side) * height, (n % side) * width
        for y, row in enumerate(image):
            for x, px in enumerate(row):
                values = list(px) if isinstance(px, (list, tuple)) else [px] * 3
                rgb = tuple(max(0, min(255, round(float(v) * scale))) for v in (values * 3)[:3])
                pixels[top + y][left + x] = rgb  # type: ignore[assignment]
    return _mlops_png(pixels), height, width


def _mlops_first_pixel(image: Any) -> List[Any]:
    px = image[0][0]
    return list(px) if isinstance(px, (list, tuple)) else [px]


def _mlops_pbtxt_string(text: str) -> str:
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _mlops_projector_blocks(text: str) -> List[str]:
    """The top-level `embeddings { ... }` blocks of a projector_config.pbtxt, as text."""
    blocks, depth, start, quoted, escaped = [], 0, -1, False, False  # type: List[str], int, int, bool, bool
    for i, ch in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and start >= 0:
                blocks.append(text[start : i + 1].strip())
                start = -1
        elif depth == 0 and start < 0 and text.startswith("embeddings", i):
            start = i
    return blocks


def _mlops_tag_dir(tag: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", tag).strip(".") or "embedding"
    if safe != tag:  # two tags that differ only in their odd characters keep separate folders
        safe += "-" + hashlib.sha1(tag.encode("utf-8")).hexdigest()[:6]
    return safe


def _mlops_write_embedding(
    logdir: str,
    vectors: Any,
    metadata: Any = None,
    tag: str = "embedding",
    step: int = 0,
    images: Any = None,
) -> str:
    """Write one embedding into `logdir` (a TensorBoard run folder); returns the tensor's folder."""
    if not isinstance(tag, str) or not tag.strip():
        raise ValueError("log_embedding: tag must be a non-empty string, got %r" % (tag,))
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError("log_embedding: step must be an int >= 0, got %r" % (step,))
    matrix = _mlops_matrix(vectors)
    columns = _mlops_columns(metadata, len(matrix)) if metadata is not None else None
    sprite = _mlops_sprite(images, len(matrix)) if images is not None else None
    folder = "%05d/%s" % (step, _mlops_tag_dir(tag))
    target = os.path.join(logdir, *folder.split("/"))
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "tensors.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for row in matrix:
            f.write("\t".join(repr(x) for x in row) + "\n")
    name = "%s:%05d" % (tag, step)
    block = ["embeddings {", "  tensor_name: %s" % _mlops_pbtxt_string(name)]
    block.append('  tensor_path: "%s/tensors.tsv"' % folder)
    if columns is not None:
        header, cols = columns
        with open(os.path.join(target, "metadata.tsv"), "w", encoding="utf-8", newline="\n") as f:
            if len(cols) > 1:
                f.write("\t".join(_mlops_label(h) for h in header) + "\n")
            for i in range(len(matrix)):
                f.write("\t".join(_mlops_label(c[i]) for c in cols) + "\n")
        block.append('  metadata_path: "%s/metadata.tsv"' % folder)
    if sprite is not None:
        with open(os.path.join(target, "sprite.png"), "wb") as f:
            f.write(sprite[0])
        block += ["  sprite {", '    image_path: "%s/sprite.png"' % folder]
        block += ["    single_image_dim: %d" % sprite[2], "    single_image_dim: %d" % sprite[1], "  }"]
    block.append("}")
    config = os.path.join(logdir, "projector_config.pbtxt")
    kept = []  # type: List[str]
    if os.path.exists(config):
        with open(config, encoding="utf-8") as f:
            for old in _mlops_projector_blocks(f.read()):
                if ("tensor_name: %s" % _mlops_pbtxt_string(name)) not in old:
                    kept.append(old)
    with open(config + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join([*kept, "\n".join(block)]) + "\n")
    os.replace(config + ".tmp", config)
    _mlops_events_file(logdir)
    return target

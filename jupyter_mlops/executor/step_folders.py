"""The folder (or file) name a step, or one of its outputs, gets inside the run's folder.

A name that is already safe (letters, digits, `._-[]`, not starting with a dot, not too long) is used
as it is, so logs/train.log and artifacts/loop[0].fit/model stay readable. Any other name is made safe
and given `~` and a hash of the whole name: `make step` and `make_step` get two folders, `..` and
`../../victim` stay inside the run's folder. `~` never appears in a name used as it is, so the two
kinds of names cannot collide.
"""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._\[\]-]")
MAX_CHARS = 120  # well under the 255 bytes a file name may have, with room for ".log"


def folder_name(name: str) -> str:
    safe = _UNSAFE.sub("_", name).lstrip(".")
    if safe == name and 0 < len(name) <= MAX_CHARS:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{safe[:MAX_CHARS] or '_'}~{digest}"

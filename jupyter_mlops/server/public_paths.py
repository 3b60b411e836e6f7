"""Error messages the browser gets name no absolute path of the server's machine (issue 12, item 17).

A path the user can act on is kept in a form they can use: under the Jupyter server's root, relative
to it (as the file browser shows it); under the jupyter-mlops home or the artifact root, relative to
`$JUPYTER_MLOPS_HOME` / `<artifact root>`; under the user's home, as `~/...`. Any other absolute path
(an interpreter, a system folder) is cut to its file name, which is what helps.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

# An absolute POSIX path: a "/" not inside a word, a URL ("http://") or a relative path ("a/b").
_ABSOLUTE = re.compile(r"(?<![\w.:/~$<>-])/[^\s'\"`()\[\]{},;]*")


def scrub(message: str, places: Iterable[tuple[Path | None, str]]) -> str:
    """`message` with each absolute path rewritten; `places`: (folder, how to name it) longest first."""
    known = sorted(
        ((str(Path(p)).rstrip("/"), label) for p, label in places if p is not None),
        key=lambda item: -len(item[0]),
    )
    home = os.path.expanduser("~")

    def public(match: re.Match[str]) -> str:
        path = match.group(0)
        trail = ""
        while path and path[-1] in ".:!?":  # the end of a sentence, not of the path
            path, trail = path[:-1], path[-1] + trail
        for folder, label in known:
            if path == folder or path.startswith(folder + "/"):
                rest = path[len(folder) :].lstrip("/")
                joined = f"{label}/{rest}" if label and rest else (label or rest or ".")
                return joined + trail
        if home not in ("", "/") and path.startswith(home + "/"):
            return "~/" + path[len(home) + 1 :] + trail
        return (Path(path).name or path) + trail

    return _ABSOLUTE.sub(public, message)

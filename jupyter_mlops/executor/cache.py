"""The step cache: a finished step's outputs, found again by what the step was and what it was given.

The key is the sha256 of the component's interface, its executor (image, command with the function
source, args, env), its packages, its working directory (the notebook's folder, where its relative
paths point) and its resolved inputs: parameter values, and what the input artifacts are (not
their paths, which differ per run): an output of a cached step by its maker's key and fingerprint
(`output_identity`, no bytes read), any other artifact (an importer's file, an output of a step
that is not cached) by the sha256 of its content. A step that imports the step runtime (rather
than carrying it) keys on the runtime's source too: changed runtime code is a miss, as changed pasted
code was. An entry is one small JSON file under
`<cache>/steps/`, pointing at the artifacts of the run that produced them and of the last runs that
reused them (hard links). A hit whose artifact files are all gone (those runs were deleted) or were
changed since is a miss; so is anything in the file that is not a whole entry of this version.

Single flight: a step about to run takes an exclusive lock on its key (`flock` on its entry's file,
which holds the running step's name until the entry is written into it), so an identical step of
another run (the trials of a sweep starting together) waits for it and then finds its outputs in the
cache instead of running too. The OS drops the lock when its holder exits, so a killed runner never
leaves the others waiting. (Entries that a hit rewrites, `add_copies`, are written to a temporary file
and renamed over the entry.)
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..ir.spec import PythonStep
from ..ir.values import Artifact
from .local_modules import local_modules_digest

_VERSION = 2
_COPIES = 4  # runs remembered per cached artifact: deleting all of them makes the entry a miss
_LOCK_POLL_S = 0.05


_RUNTIME = "jupyter_mlops.step_runtime"  # what a compiled step imports (compiler/kfp_ir.py)


@functools.lru_cache(maxsize=1)
def step_runtime_digest() -> str:
    """The sha256 of the step runtime's sources, as steps on this machine import them."""
    folder = Path(__file__).resolve().parents[1] / "step_runtime"
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@dataclass
class CachedOutputs:
    parameters: dict[str, Any]
    artifacts: dict[str, list[Artifact]]  # uris are files of an earlier run
    key: str
    entry: dict[str, Any]


_ENCODER = json.JSONEncoder(sort_keys=True, default=repr)  # built once: json.dumps(...) builds one a call
_STEP_TEXT_MEMO = 512  # steps whose part of the key text is kept (the steps of the last few pipelines)


def cache_key(
    component: Mapping[str, Any],
    step: PythonStep,
    parameters: Mapping[str, Any],
    artifacts: Mapping[str, list[Artifact]],
    working_dir: str | None = None,
) -> str:
    """The sha256 of this JSON object, with its keys sorted: `version`, the component's `interface`,
    the executor's `image`, `command` (with the function's source), `args` and `env`, its `packages`
    and `pip_options`, the `working_dir` (code that reads 'data/train.csv' reads another file in another
    folder: the same step run from two notebook folders must not share a result; a file changed in
    place keeps its key: --no-cache), the step runtime's digest as `runtime` when the step imports it,
    the `parameters` and what the input `artifacts` are.

    The text is put together from the encoded values, in the order `json.dumps(..., sort_keys=True)`
    gives them (the same text, so the same keys as before): the part that depends on the step's
    executor alone is encoded once per executor (`_step_text`), not once per task and run."""
    uses_runtime = _RUNTIME in step.source
    before_artifacts, before_interface, before_parameters, before_runtime = _step_text(
        step.image, step.command, step.args, tuple(step.env.items()), step.requirements, step.pip_options
    )
    interface = {k: component.get(k) for k in ("inputDefinitions", "outputDefinitions")}
    identity_artifacts = {
        name: [[a.schema_title, a.content_digest(), a.metadata] for a in group]
        for name, group in artifacts.items()
    }
    encode = _ENCODER.encode
    text = "".join(
        (
            before_artifacts, encode(identity_artifacts),
            before_interface, encode(interface),
            before_parameters, encode(dict(parameters)),
            before_runtime, encode(step_runtime_digest() if uses_runtime else None),
            ', "version": ', encode(_VERSION), ', "working_dir": ', encode(working_dir),
        )
    )  # fmt: skip
    local = local_modules_digest(step.source, working_dir) if working_dir else None
    if local is not None:  # keys of steps that import nothing of the notebook's folder are unchanged
        text += ', "local_modules": ' + encode(local)
    return hashlib.sha256((text + "}").encode()).hexdigest()


@functools.lru_cache(maxsize=_STEP_TEXT_MEMO)
def _step_text(
    image: str,
    command: tuple[str, ...],
    args: tuple[str, ...],
    env: tuple[tuple[str, str], ...],
    requirements: tuple[str, ...],
    pip_options: tuple[str, ...],
) -> tuple[str, str, str, str]:
    """The key text's pieces that depend on the executor only, between the per-run values: what comes
    before `artifacts`, before `interface`, before `parameters` and before `runtime`."""
    encode = _ENCODER.encode
    return (
        '{"args": ' + encode(list(args)) + ', "artifacts": ',
        ', "command": ' + encode(list(command)) + ', "env": ' + encode(dict(env))
        + ', "image": ' + encode(image) + ', "interface": ',
        ', "packages": ' + encode(sorted(requirements)) + ', "parameters": ',
        ', "pip_options": ' + encode(list(pip_options)) + ', "runtime": ',
    )  # fmt: skip


def cached_log_line(key: str | None) -> str:
    """What a step served from the cache shows as its log. A runner appends it to the step's log file;
    a run resolved whole in the submitting process (backends/cached_runs.py) writes no log files, and
    its readers make this line from the step's record (store/logs.py)."""
    return f"[jupyter-mlops] cached: outputs reused from an earlier run (key {key})\n"


def output_identity(key: str, name: str, index: int, path: Path) -> str:
    """What a freshly made output artifact stands for in the cache keys of the steps that read it, in
    place of a sha256 of its content: the cache key of the step that made it, which output, and the
    file's fingerprint (size, mtime). Nothing is read, so a 1 GiB hand-over costs no hashing.

    The same entry found again gives the same identity (stored with it; hard links keep the
    fingerprint), so downstream steps hit too. A step run again for the same key (its entry was lost)
    writes new files: new fingerprints, so the steps downstream run again rather than reuse results
    made from the old files."""
    text = json.dumps(["output", key, name, index, _fingerprint(path)])
    return "output:" + hashlib.sha256(text.encode()).hexdigest()


class StepCache:
    def __init__(self, root: Path) -> None:
        self.root = root / "steps"
        self._held: dict[str, int] = {}  # key -> its entry file, locked by a step of this process

    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    @contextmanager
    def single_flight(
        self, key: str, cancel: threading.Event, owner: str, on_wait: Callable[[str], None]
    ) -> Iterator[bool]:
        """Hold the key's lock while the body runs the step: True once held, False if `cancel` was set
        while waiting. `on_wait(holder)` is called once when another process holds it (`holder`: what
        that process wrote, e.g. "run 1a2b.. step load").

        The lock is the entry's own file (one file a step: creating one costs ~0.2 ms of CPU on a VM's
        disk): while the holder runs the step it holds `owner` (not an entry: a miss for every reader,
        who then waits here), then the entry `store` writes into it. A complete entry found once held
        (the step waited for finished) is left as it is; a holder killed mid-step leaves its name, a
        miss that the next run of the step overwrites."""
        try:
            import fcntl
        except ImportError:  # no flock (Windows): identical steps may run side by side
            yield True
            return
        path = os.path.join(self.root, key[:2], key + ".json")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            waited = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not waited:
                        waited = True
                        text = os.pread(fd, 500, 0).decode(errors="replace").strip()
                        on_wait(text if text and not text.startswith("{") else "another run")
                    if cancel.wait(_LOCK_POLL_S):
                        yield False
                        return
            try:
                there = _read_fd(fd)
                if _entry_of(there) is None:  # no finished entry here: say who runs the step
                    _overwrite(fd, owner.encode(), len(there))
                self._held[key] = fd
                yield True
            finally:
                self._held.pop(key, None)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def lookup(self, key: str) -> CachedOutputs | None:
        try:
            entry = _entry_of(_read(os.path.join(self.root, key[:2], key + ".json")))
        except OSError:
            return None
        if entry is None:
            return None
        artifacts: dict[str, list[Artifact]] = {}
        for name, group in entry.get("artifacts", {}).items():
            artifacts[name] = []
            for a in group:
                copies = a.get("copies") or []
                if a.get("existed"):
                    intact = [c for c in copies if _fingerprint(Path(c["uri"])) == c["fingerprint"]]
                    if not intact:
                        return None  # every run holding the file was deleted, or it changed: recompute
                    uri = intact[0]["uri"]
                else:
                    uri = copies[0]["uri"] if copies else ""
                artifacts[name].append(
                    Artifact(
                        name=a["name"],
                        uri=uri,
                        schema_title=a["schema_title"],
                        schema_version=a["schema_version"],
                        metadata=a["metadata"],
                        digest=a.get("digest"),
                    )
                )
        return CachedOutputs(
            parameters=dict(entry.get("parameters", {})), artifacts=artifacts, key=key, entry=entry
        )

    def store(self, key: str, parameters: Mapping[str, Any], artifacts: Mapping[str, list[Artifact]]) -> None:
        group_json: dict[str, list[dict[str, Any]]] = {}
        for name, group in artifacts.items():
            group_json[name] = []
            for a in group:
                fingerprint = _fingerprint(Path(a.uri))
                group_json[name].append(
                    {
                        "name": a.name,
                        "schema_title": a.schema_title,
                        "schema_version": a.schema_version,
                        "metadata": a.metadata,
                        "existed": fingerprint is not None,
                        "copies": [{"uri": a.uri, "fingerprint": fingerprint}],
                        "digest": a.content_digest() if fingerprint is not None else None,
                    }
                )
        self._write(
            key,
            {
                "version": _VERSION,
                "created": time.time(),
                "parameters": dict(parameters),
                "artifacts": group_json,
            },
        )

    def add_copies(self, hit: CachedOutputs, copies: Mapping[str, list[Artifact]]) -> None:
        """Remember where a hit put its artifacts, so the entry outlives the run that made them."""
        if not any(copies.values()):
            return  # no artifact (parameters only): the entry stays as it is
        entry = json.loads(json.dumps(hit.entry))
        changed = False
        for name, group in copies.items():
            for stored, a in zip(entry.get("artifacts", {}).get(name, []), group, strict=False):
                fingerprint = _fingerprint(Path(a.uri))
                if stored.get("existed") and fingerprint is not None:
                    others = [c for c in stored.get("copies", []) if c["uri"] != a.uri]
                    stored["copies"] = [{"uri": a.uri, "fingerprint": fingerprint}, *others][:_COPIES]
                    changed = True
        if changed:
            self._write(hit.key, entry)

    def _write(self, key: str, entry: Mapping[str, Any]) -> None:
        held = self._held.get(key)
        if held is not None:  # the step that ran holds the entry's file: the entry goes into it
            _overwrite(held, json.dumps(entry, default=repr).encode(), os.fstat(held).st_size)
            return
        path = self._entry(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(entry, f, default=repr)
            os.replace(tmp, path)  # readers see the old entry or the new one, never half of one
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _read(path: str) -> bytes:
    """A small file's bytes with a bare open and read (a cache entry: a few hundred bytes)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        return _read_fd(fd)
    finally:
        os.close(fd)


def _read_fd(fd: int) -> bytes:
    chunks = [os.pread(fd, 1 << 16, 0)]
    while len(chunks[-1]) == 1 << 16:  # a large entry (many artifacts): read on to its end
        chunks.append(os.pread(fd, 1 << 16, (1 << 16) * len(chunks)))
    return b"".join(chunks)


def _overwrite(fd: int, data: bytes, size: int) -> None:
    """Make a file of `size` bytes hold `data`: written over it, then cut only if it was longer (an
    entry is longer than the name written before it). Truncating a file that holds data costs ~1 ms on
    this machine's disk (ext4, freeing its block), as much as the rest of the step's cache work."""
    os.pwrite(fd, data, 0)
    if size > len(data):
        os.ftruncate(fd, len(data))


def _entry_of(data: bytes) -> dict[str, Any] | None:
    """The entry in an entry file's bytes; None for anything else: empty, the name of the step running
    now (single_flight), one cut short (a step killed while writing it), or of another version."""
    if not data.startswith(b"{"):
        return None
    try:
        entry = json.loads(data)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) and entry.get("version") == _VERSION else None


def _fingerprint(path: Path) -> list[int] | None:
    """[size, latest mtime in ns] of a file or a directory's files (cheap, unlike a content hash);
    None if it does not exist. A changed file makes its cache entry a miss."""
    try:
        if path.is_dir():
            stats = [p.stat() for p in path.rglob("*") if p.is_file()]
            return [sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)]
        stat = path.stat()
        return [stat.st_size, stat.st_mtime_ns]
    except OSError:
        return None


def materialize(source: Path, target: Path) -> None:
    """Put a cached artifact into this run's directory: hard links where possible, else copies."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
    if source.is_dir():
        shutil.copytree(source, target, copy_function=_link_or_copy)
    elif source.exists():
        _link_or_copy(str(source), str(target))


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)

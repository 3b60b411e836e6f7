"""Parsing of the `%%component` and `%%pipeline` cell-magic lines, shared by the kernel and the CLI.

One parser, so a notebook means the same thing in the kernel and on the command line.
"""

from __future__ import annotations

import argparse
import functools
import re
import shlex
from dataclasses import dataclass, field

from ..errors import UsageError
from .node_affinity import NodeAffinity, parse_node_affinity

STEP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _ascii_hint(name: str) -> str:
    """`, e.g. 'fruh'` for 'früh': the name with accents dropped and other characters made `_`."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = re.sub(r"\W", "_", plain).strip("_")
    if plain and not plain[0].isalpha():
        plain = "step_" + plain
    return f", e.g. {plain!r}" if plain and STEP_NAME.match(plain) else ""


_MEMORY = re.compile(r"^\d+(\.\d+)?([EPTGMK]i?|[eptgmk])?$")
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


@dataclass(frozen=True)
class Toleration:
    key: str
    value: str | None
    effect: str | None

    @property
    def operator(self) -> str:
        return "Equal" if self.value is not None else "Exists"


@dataclass(frozen=True)
class StepOptions:
    packages: tuple[str, ...] = ()
    auto_packages: bool = False
    image: str | None = None
    cpu: str | None = None
    memory: str | None = None
    gpu: int | None = None
    retries: int = 0
    timeout: int | None = None
    cache: bool = True
    force_cache: bool = False  # --cache: cached even though it uses files (see file_order)
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    node_affinity: tuple[NodeAffinity, ...] = ()
    inputs: tuple[str, ...] | None = None
    outputs: tuple[str, ...] | None = None
    after: tuple[str, ...] = ()
    define_only: bool = False


@dataclass(frozen=True)
class SetupOptions:
    packages: tuple[str, ...] = ()
    auto_packages: bool = False
    define_only: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    # Each step carries the step runtime it uses instead of importing it from jupyter-mlops, which its
    # prelude would install (for clusters that cannot install the package; see README "Step runtime").
    inline_runtime: bool = False


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and exiting, so errors reach the user as one message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        raise UsageError(message or f"{self.prog}: invalid options")


def positive_int(text: str) -> int:
    """An argparse type for a count such as `--limit N`: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _names(text: str) -> tuple[str, ...]:
    out = tuple(n.strip() for n in text.split(",") if n.strip())
    for n in out:
        if not n.isidentifier():
            raise UsageError(f"{n!r} is not a Python variable name (in a comma-separated list {text!r})")
    return out


def _packages(values: list[str]) -> tuple[tuple[str, ...], bool]:
    specs: list[str] = []
    auto = False
    for value in values:
        for spec in value.split(","):
            spec = spec.strip()
            if not spec:
                continue
            if spec == "auto":
                auto = True
            else:
                specs.append(spec)
    return tuple(specs), auto


@functools.cache  # building the parser costs more than using it; parse_args keeps no state
def _component_parser() -> _Parser:
    p = _Parser(prog="%%component", add_help=False)
    p.add_argument("name")
    p.add_argument("--packages", action="extend", nargs="+", default=[])  # a,b or a b (as pip)
    p.add_argument("--image")
    p.add_argument("--cpu")
    p.add_argument("--memory")
    p.add_argument("--gpu", type=int)
    p.add_argument("--retries", type=int, default=0)
    p.add_argument("--timeout", type=int)
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--cache", action="store_true")
    p.add_argument("--node-selector", action="append", default=[])
    p.add_argument("--toleration", action="append", default=[])
    p.add_argument("--node-affinity", action="append", default=[])
    p.add_argument("--inputs")
    p.add_argument("--outputs")
    p.add_argument("--after", action="append", default=[])
    p.add_argument("--define-only", action="store_true")
    return p


def _without_comment(line: str) -> str:
    """`line` up to a `#` that starts a word outside quotes (a shell comment); `a#b` and `"#"` stay."""
    quote: str | None = None
    word_start = True
    i = 0
    while i < len(line):
        char = line[i]
        if quote is not None:
            if char == "\\" and quote == '"':
                i += 2
                continue
            if char == quote:
                quote = None
        elif char == "\\":
            i += 2
            word_start = False
            continue
        elif char in "'\"":
            quote = char
        elif char == "#" and word_start:
            return line[:i]
        word_start = quote is None and char.isspace()
        i += 1
    return line


def split_magic_line(line: str, prog: str) -> list[str]:
    """The words of a magic's line, as a shell splits them; a trailing `# comment` is dropped.

    IPython hands a magic its whole line, so `%pipeline show  # the DAG` arrives with its comment. As
    in a shell, `#` starts a comment only at the start of a word outside quotes: `note=a#b` and
    `note="a # b"` keep their `#`.
    """
    try:
        return shlex.split(_without_comment(line))
    except ValueError as exc:
        raise UsageError(f"{prog}: cannot read the options {line.strip()!r}: {exc}") from None


def _split(line: str, prog: str) -> list[str]:
    return split_magic_line(line, prog)


def parse_component_line(line: str) -> tuple[str, StepOptions]:
    """`train --cpu 2 --packages numpy` -> ("train", StepOptions(...)). Raises UsageError."""
    words = _split(line, "%%component")
    if not words or words[0].startswith("-"):
        raise UsageError(
            "%%component needs the step's name first: %%component NAME [options], "
            "e.g. %%component train --packages numpy,pandas"
        )
    args = _component_parser().parse_args(words)
    name: str = args.name
    if not STEP_NAME.match(name):
        raise UsageError(
            f"%%component: step name {name!r} must start with an ASCII letter and hold only ASCII letters, "
            f"digits and _ (Kubeflow names its task after it){_ascii_hint(name)}"
        )
    packages, auto = _packages(args.packages)
    if args.cpu is not None and not re.match(r"^\d+(\.\d+)?m?$", args.cpu):
        raise UsageError(f"%%component {name}: --cpu {args.cpu!r} is not a CPU amount (e.g. 2, 0.5, 500m)")
    if args.memory is not None and not _MEMORY.match(args.memory):
        raise UsageError(
            f"%%component {name}: --memory {args.memory!r} is not a memory size (e.g. 512M, 4G, 2Gi)"
        )
    for flag, number in (("--gpu", args.gpu), ("--retries", args.retries), ("--timeout", args.timeout)):
        if number is not None and number < 0:
            raise UsageError(f"%%component {name}: {flag} must be 0 or more, not {number}")
    if args.cache and args.no_cache:
        raise UsageError(f"%%component {name}: --cache and --no-cache contradict each other; give one")
    selectors = []
    for item in args.node_selector:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"%%component {name}: --node-selector {item!r} must be KEY=VALUE")
        selectors.append((key, value))
    tolerations = []
    for item in args.toleration:
        tolerations.append(_toleration(name, item))
    after: list[str] = []
    for item in args.after:
        for step in item.split(","):
            if step.strip():
                after.append(step.strip())
    return name, StepOptions(
        packages=packages,
        auto_packages=auto,
        image=args.image,
        cpu=args.cpu,
        memory=args.memory,
        gpu=args.gpu,
        retries=args.retries,
        timeout=args.timeout,
        cache=not args.no_cache,
        force_cache=args.cache,
        node_selector=tuple(selectors),
        tolerations=tuple(tolerations),
        node_affinity=tuple(parse_node_affinity(name, item) for item in args.node_affinity),
        inputs=_names(args.inputs) if args.inputs is not None else None,
        outputs=_names(args.outputs) if args.outputs is not None else None,
        after=tuple(after),
        define_only=args.define_only,
    )


def _toleration(step: str, item: str) -> Toleration:
    """KEY=VALUE:EFFECT, KEY:EFFECT (operator Exists) or KEY=VALUE (any effect)."""
    body, colon, effect = item.rpartition(":")
    if not colon:
        body, effect = item, ""
    key, eq, value = body.partition("=")
    if not key or (effect and effect not in _EFFECTS):
        raise UsageError(
            f"%%component {step}: --toleration {item!r} must be KEY=VALUE:EFFECT with EFFECT one of "
            + ", ".join(_EFFECTS)
        )
    return Toleration(key=key, value=value if eq else None, effect=effect or None)


def parse_setup_line(line: str) -> SetupOptions:
    """Options of `%%pipeline setup [--packages P,Q] [--define-only] [--inline-runtime]`: packages
    every step gets, whether the cell runs in the kernel, whether steps carry the step runtime."""
    p = _Parser(prog="%%pipeline setup", add_help=False)
    p.add_argument("--packages", action="extend", nargs="+", default=[])  # a,b or a b (as pip)
    p.add_argument("--define-only", action="store_true")
    p.add_argument("--inline-runtime", action="store_true")
    args = p.parse_args(_split(line, "%%pipeline setup"))
    packages, auto = _packages(args.packages)
    return SetupOptions(
        packages=packages,
        auto_packages=auto,
        define_only=args.define_only,
        inline_runtime=args.inline_runtime,
    )

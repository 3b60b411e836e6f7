"""Turn a notebook cell's IPython source into the plain Python that a pipeline step runs.

A step runs on a stock Python image without IPython, so IPython syntax must go. Timing magics
(`%time`, `%timeit`, `%%time`, `%%timeit`) only measure their statement: we keep the statement. `%time`
gives its expression's value, as the step does; `%timeit` and `%%timeit` give none, so a timed expression
on the cell's last line is kept with a `;` (no step result, as the kernel shows none).
Lines that only change how the kernel shows or reloads things (`%matplotlib inline`, `%config
InlineBackend...`, `%load_ext autoreload`, `%autoreload 2`, ...: see `_DISPLAY_ONLY`) or only show help
(`df.merge?`, `np.arange??`, `?len`, `%pdoc f`: see `_HELP_ONLY`) are left out of the step, each with a
note (`PythonSource.notes`) that `%pipeline show` lists.
Everything else that needs IPython (`!cmd`, `%pip`, `%cd`, `%run`, other magics, `get_ipython()`) is
refused with a message naming the line and what to do instead, because silently dropping it would
change what the step does.

IPython's own `TransformerManager` does the parsing, so we agree with the kernel about what is
IPython syntax (strings, continuation lines, `a = !ls`, ...). It is imported lazily: loading this
module must stay cheap.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from jupyter_mlops.errors import CellError

# Cell magics that only wrap ordinary Python: the step keeps the body.
_TIMING_MAGICS = frozenset({"time", "timeit"})
# Headers of this package's own cell magics: the lead's magics may hand us a whole notebook cell.
_OWN_HEADER = re.compile(r"^%%(component|pipeline)\b")
_CELL_MAGIC = re.compile(r"^%%(\w+)(.*)$")
# `%timeit` options that precede the statement (see `%timeit?`); `%time` takes none we must keep.
_TIMEIT_OPTIONS = re.compile(r"^\s*(?:(?:-[nrp]\s*[\d.]+|-[tcqo]+|--no-raise-error)(?:\s+|$))*")
_INSTALLERS = frozenset({"pip", "conda", "mamba", "micromamba", "uv"})
# Line magics that only change how the kernel shows or reloads things: a step has no kernel, and the
# step's code does the same without them. Each maps to what it does, for the note.
_DISPLAY_ONLY = {
    "matplotlib": "only sets how the kernel shows plots",
    "config": "only configures IPython",
    "load_ext": "only loads an IPython extension into the kernel",
    "reload_ext": "only reloads an IPython extension in the kernel",
    "unload_ext": "only unloads an IPython extension from the kernel",
    "autoreload": "only makes the kernel reload edited modules",
    "aimport": "only makes the kernel reload edited modules",
    "precision": "only sets how the kernel displays floats",
    "pprint": "only sets how the kernel displays values",
    "xmode": "only sets how the kernel shows tracebacks",
    "colors": "only sets the kernel's colours",
    "autosave": "only sets the notebook's autosave",
}
# Help lines (`x?` is `%pinfo x`, `x??` is `%pinfo2 x`, `np.*rand*?` is `%psearch`) only show text about
# an object in the kernel: the step's code does the same without them.
_HELP_ONLY = dict.fromkeys(
    ("pinfo", "pinfo2", "psearch", "pdoc", "pdef", "psource", "pfile"), "only shows help in the kernel"
)
_LEFT_OUT = {**_DISPLAY_ONLY, **_HELP_ONLY}
_CAPTURE_NOTE = (
    "only keeps the cell's output from showing in the kernel (a variable it names holds that output "
    "there, and no step has it); the step's log keeps the output"
)
# Magics that change what the code does: what to write instead.
_INSTEAD = {
    "cd": "it changes the kernel's folder. In a step, call os.chdir(path) in Python, or use paths "
    "that do not need it.",
    "env": "it changes the kernel's environment. In a step, write os.environ['NAME'] = 'value'.",
    "run": "it runs another file in the kernel. Put that code in a %%pipeline setup cell, or import "
    "it as a module.",
    "pylab": "it imports numpy and matplotlib names unseen. Import what the cell uses instead: "
    "import numpy as np, import matplotlib.pyplot as plt.",
}


@dataclass(frozen=True)
class PythonSource:
    """Plain Python made from a cell, and where each of its lines came from."""

    text: str
    original_lines: tuple[str, ...]  # the cell as the user wrote it
    line_map: tuple[int, ...]  # line_map[n - 1] = the user's line number of line n of `text`
    first_line: int = 1  # the user's number for the cell's first line
    # What the user should know, short of an error: (user's line, message), e.g. a display-only
    # line left out of the step.
    notes: tuple[tuple[int | None, str], ...] = ()

    def user_line(self, line: int | None) -> int | None:
        """The user's line number for line `line` of `text` (None stays None)."""
        if line is None or not self.line_map:
            return line
        return self.line_map[min(max(line, 1), len(self.line_map)) - 1]

    def user_text(self, user_line: int | None) -> str:
        """The user's line `user_line`, stripped (empty if unknown)."""
        index = (user_line or 0) - self.first_line
        if 0 <= index < len(self.original_lines):
            return self.original_lines[index].strip()
        return ""


@functools.lru_cache(maxsize=512)
def parse_python(text: str) -> ast.Module:
    """`ast.parse(text)`, once per text: converting a cell checks and walks its text several times,
    the analysis walks it again, and the planner analyses every cell twice (across_cells.py). The
    tree is shared: whoever gets it only reads it. A SyntaxError is raised each time (not kept)."""
    return ast.parse(text)


def to_python(source: str, *, cell: str, first_line: int = 1) -> PythonSource:
    """The plain Python a step runs for this cell; CellError for IPython lines a step cannot run."""
    original = source.splitlines()
    text, quiet, captured = _strip_cell_magics(original, cell=cell, first_line=first_line)
    # Stripping keeps lines one to one, so map against it: blanked headers cannot confuse the diff.
    python_lines = text.splitlines()
    for _ in range(4):  # `%time %time x` nests; each round unwraps one level
        text = _transform(text)
        unwrapped = _unwrap_timing_magics(text, python_lines, cell=cell, first_line=first_line)
        if unwrapped is None:
            break
        text = unwrapped
    text, dropped = _drop_display_only(text)
    if quiet:  # `%%timeit` and `%%capture` show no value: neither does the step
        text = _silence_last_expression(text)
    result = _with_line_map(text, python_lines, first_line, shown=original)
    _refuse_ipython_calls(result, cell=cell)
    if dropped or captured is not None:
        notes: list[tuple[int | None, str]] = []
        if captured is not None:
            notes.append((captured, f"`{result.user_text(captured)}` {_CAPTURE_NOTE}: left out of the step"))
        for lineno, magic in dropped:
            line = result.user_line(lineno)
            shown = result.user_text(line) or f"%{magic}"
            notes.append((line, f"`{shown}` {_LEFT_OUT[magic]}: left out of the step"))
        result = dataclasses.replace(result, notes=tuple(notes))
    return result


def syntax_error(source: PythonSource, exc: SyntaxError, *, cell: str) -> CellError:
    """A CellError for a SyntaxError raised on `source.text`, at the user's line."""
    line = source.user_line(exc.lineno)
    shown = source.user_text(line)
    where = f": {shown}" if shown else ""
    return CellError(
        f"invalid Python ({exc.msg}){where}. Fix the line and run the cell again.", cell=cell, line=line
    )


def _strip_cell_magics(lines: list[str], *, cell: str, first_line: int) -> tuple[str, bool, int | None]:
    """Blank out our own `%%component`/`%%pipeline` header and a timing or `%%capture` cell magic, keeping
    line numbers; whether the magic shows no value (`%%timeit`, `%%capture`); the user's line of a
    `%%capture` line."""
    lines = list(lines)
    quiet = False
    captured = None
    for _ in range(3):  # our header, then possibly `%%capture` and `%%time` on the body's first lines
        index = next((i for i, line in enumerate(lines) if line.strip()), None)
        if index is None or not lines[index].startswith("%%"):
            break
        if _OWN_HEADER.match(lines[index]):
            lines[index] = ""
            continue
        match = _CELL_MAGIC.match(lines[index])
        name = match.group(1) if match else lines[index][2:].split(" ")[0]
        if name == "capture":  # only hides the cell's output in the kernel (`%%capture out` keeps it)
            lines[index], quiet, captured = "", True, index + first_line
            continue
        if name not in _TIMING_MAGICS or match is None:
            raise CellError(
                f"{lines[index].strip()!r} cannot run inside a pipeline step: the cell magic %%{name} "
                "needs IPython, which steps do not have. Move it to a plain cell.",
                cell=cell,
                line=index + first_line,
            )
        # `%%timeit [options] setup` runs `setup` once first; `%%time` takes no statement.
        setup = _TIMEIT_OPTIONS.sub("", match.group(2)).strip() if name == "timeit" else ""
        lines[index] = setup
        quiet = quiet or name == "timeit"
    return "\n".join(lines) + "\n", quiet, captured


def _silence_last_expression(text: str) -> str:
    """`text` with a `;` after its last statement when that is a bare expression (IPython then shows no
    value, and the step has no result); unchanged otherwise."""
    try:
        tree = parse_python(text)
    except SyntaxError:
        return text  # reported by the caller with the user's line
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return text
    end = _end_offset(text, tree.body[-1])
    return text[:end] + ";" + text[end:]


def _transform(text: str) -> str:
    try:  # valid Python holds no IPython syntax (`!x`, `%x`, `x?`, `>>> x` are all invalid)
        parse_python(text)
        return text
    except SyntaxError:
        pass
    from IPython.core.inputtransformer2 import TransformerManager  # lazy: IPython is heavy

    # IPython drops leading blank lines; put them back so line numbers stay the user's.
    stripped = text.lstrip("\n")
    leading = len(text) - len(stripped)
    transformed: str = TransformerManager().transform_cell(stripped)  # type: ignore[no-untyped-call,unused-ignore]
    return "\n" * leading + transformed


def _magic_call(node: ast.AST) -> tuple[str, str, list[ast.expr]] | None:
    """(method, first argument, arguments) for `get_ipython().method('name', ...)` calls."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)):
        return None
    if owner.func.id != "get_ipython":
        return None
    first = node.args[0] if node.args else None
    name = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
    return node.func.attr, name, node.args


def _unwrap_timing_magics(text: str, original: list[str], *, cell: str, first_line: int) -> str | None:
    """Replace `%time STMT` / `%timeit STMT` (as IPython transformed them) by STMT; None if none."""
    if "get_ipython" not in text:
        return None  # plain Python: spare the walk
    try:
        tree = parse_python(text)
    except SyntaxError:
        return None  # reported by the caller with the user's line
    edits: list[tuple[int, int, str]] = []
    statement_calls = {id(stmt.value): stmt for stmt in ast.walk(tree) if isinstance(stmt, ast.Expr)}
    for node in ast.walk(tree):
        found = _magic_call(node)
        if found is None or found[0] != "run_line_magic" or found[1] not in _TIMING_MAGICS:
            continue
        args = found[2]
        raw = args[1].value if len(args) > 1 and isinstance(args[1], ast.Constant) else ""
        statement = str(raw)
        if found[1] == "timeit":
            statement = _TIMEIT_OPTIONS.sub("", statement)
        statement = statement.strip()
        assert isinstance(node, ast.expr)
        if id(node) in statement_calls:
            span: ast.stmt | ast.expr = statement_calls[id(node)]
            replacement = statement or "pass"
            if found[1] == "timeit":  # `%timeit f(x)` has no value, even on the cell's last line
                replacement = _silence_last_expression(replacement + "\n").rstrip("\n")
        elif found[1] == "timeit":  # `t = %timeit -o f(1)`: a TimeitResult, which a step does not make
            where = _with_line_map(text, original, first_line)
            line = where.user_line(node.lineno)
            raise CellError(
                f"{where.user_text(line)!r} cannot run inside a pipeline step: the value of %timeit is its "
                "timings, and a step runs the statement once, untimed. Move the line to a plain cell, or "
                "time the statement yourself (time.perf_counter()).",
                cell=cell,
                line=line,
            )
        else:  # `x = %time f(1)`: the magic's value is the expression's value
            span, replacement = node, f"({statement})" if statement else "None"
            try:
                ast.parse(replacement, mode="eval")
            except SyntaxError:
                where = _with_line_map(text, original, first_line)
                line = where.user_line(node.lineno)
                raise CellError(
                    f"{where.user_text(line)!r}: %{found[1]} used as a value must time an expression, "
                    f"not {statement!r}. Write the statement on its own line.",
                    cell=cell,
                    line=line,
                ) from None
        edits.append((_offset(text, span.lineno, span.col_offset), _end_offset(text, span), replacement))
    if not edits:
        return None
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _drop_display_only(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Replace each display-only magic statement by `pass` (same lines); [(line in text, magic)]."""
    if "get_ipython" not in text:
        return text, []
    try:
        tree = parse_python(text)
    except SyntaxError:
        return text, []  # reported by the caller with the user's line
    edits: list[tuple[int, int, str]] = []
    dropped: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Expr):
            continue
        found = _magic_call(node.value)
        if found is None or found[0] != "run_line_magic" or found[1] not in _LEFT_OUT:
            continue
        edits.append((_offset(text, node.lineno, node.col_offset), _end_offset(text, node), "pass"))
        dropped.append((node.lineno, found[1]))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, sorted(dropped)


def _offset(text: str, lineno: int, col_bytes: int) -> int:
    # ast columns count UTF-8 bytes; convert to a character offset into `text`.
    lines = text.splitlines(keepends=True)
    before = sum(len(line) for line in lines[: lineno - 1])
    return before + len(lines[lineno - 1].encode()[:col_bytes].decode(errors="ignore"))


def _end_offset(text: str, node: ast.AST) -> int:
    end_line = getattr(node, "end_lineno", None)
    end_col = getattr(node, "end_col_offset", None)
    assert end_line is not None and end_col is not None
    return _offset(text, end_line, end_col)


def _with_line_map(
    text: str, original: list[str], first_line: int, *, shown: list[str] | None = None
) -> PythonSource:
    """Map each line of `text` to the user's line it came from (IPython may join continued lines).

    `original` is the cell with our header blanked (one to one with the user's lines), `shown`
    the cell as the user wrote it, quoted in messages.
    """
    final = text.splitlines()
    line_map = [0] * len(final)
    # Lines unchanged (plain Python: most cells): the diff below is one `equal` run over them all.
    opcodes: Sequence[tuple[str, int, int, int, int]]
    if final and final == original:
        opcodes = [("equal", 0, len(final), 0, len(final))]
    else:
        opcodes = difflib.SequenceMatcher(None, original, final, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        for k in range(j2 - j1):
            if tag == "equal":
                source_index = i1 + k
            elif i2 > i1:
                source_index = i1 + min(k, i2 - i1 - 1)
            else:  # inserted line: attribute it to the line before
                source_index = max(i1 - 1, 0)
            line_map[j1 + k] = source_index + first_line
    return PythonSource(
        text=text,
        original_lines=tuple(original if shown is None else shown),
        line_map=tuple(line_map),
        first_line=first_line,
    )


def _refuse_ipython_calls(source: PythonSource, *, cell: str) -> None:
    """CellError for the first line that still needs IPython (a shell command, a magic, ...)."""
    if "get_ipython" not in source.text:
        return
    try:
        tree = parse_python(source.text)
    except SyntaxError:
        return  # the caller reports it
    problems: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "get_ipython":
            problems.append((node.lineno, _why_refused(tree, node)))
    if not problems:
        return
    lineno, why = min(problems)
    line = source.user_line(lineno)
    raise CellError(
        f"{source.user_text(line)!r} cannot run inside a pipeline step: {why}", cell=cell, line=line
    )


def _why_refused(tree: ast.Module, name: ast.Name) -> str:
    for node in ast.walk(tree):
        found = _magic_call(node)
        if found is None or not isinstance(node, ast.Call):
            continue
        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
        if not (isinstance(owner, ast.Call) and owner.func is name):
            continue
        method, first, _ = found
        command = first.split()[0] if first.split() else ""
        if method in ("system", "getoutput"):
            if command in _INSTALLERS:
                return _INSTALL_HELP
            return (
                "shell commands (!) need IPython, which steps do not have. "
                "Use subprocess.run([...]) instead, or move the line to a plain cell."
            )
        if method == "run_line_magic" and first in _INSTALLERS:
            return _INSTALL_HELP
        if method == "run_line_magic" and first in _INSTEAD:
            return f"the magic %{first} needs IPython, which steps do not have, and {_INSTEAD[first]}"
        if method == "run_line_magic":
            return (
                f"the magic %{first} needs IPython, which steps do not have. Move the line to a plain cell."
            )
        if method == "run_cell_magic":
            return (
                f"the cell magic %%{first} needs IPython, which steps do not have. Move it to a plain cell."
            )
    return "get_ipython() needs IPython, which steps do not have. Move the line to a plain cell."


_INSTALL_HELP = (
    "a step installs nothing at run time. Declare the packages instead, for one step on its line "
    "(%%component NAME --packages numpy,pandas) or for every step on the setup cell's "
    "(%%pipeline setup --packages numpy,pandas), and remove this line."
)

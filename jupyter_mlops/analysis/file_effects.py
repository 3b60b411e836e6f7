"""Whether a cell may read or write files: found in its code, as the data flow is found in its names.

Steps share files through their working directory (`figures/`, `out/a.csv`) as notebook cells do, and
names do not show it. This module looks at each call in a cell (also inside the cell's own functions):

- known calls, by what they are: `open(..., mode)` (a mode it cannot read counts as writing), the
  `os`, `os.path`, `shutil`, `glob`, `pathlib.Path` methods, pandas `read_*`/`to_*` (a `to_csv()` with
  no path returns text and touches nothing), numpy `save`/`load`/`savetxt`/`loadtxt`, `savefig`,
  `json`/`pickle`/`joblib`/`torch` `dump`/`save`/`load`, `tarfile`/`zipfile` by their mode, `subprocess`
  and `os.system` (a command may do anything: counted as writing), any `.save(...)`/`.mkdir()`/...;
- functions of the `%%pipeline setup` cell that do any of this, where a step calls them;
- any other call given a string that looks like a relative or absolute file path (it holds a `/` or
  ends in a known file extension such as `.csv`, `.png`, `.pkl`; URLs and `%` formats are not paths),
  directly, inside its arguments, or through a name holding such a string (assigned in the cell, a
  pipeline parameter, or a value of the setup cell). Such a call reads files if its name says so
  (`read`, `load`, `open`, `list`, `exists`, `glob`, ...), and may write them otherwise. Calls that
  log or tag (`log_*`, `add_*`, `set_*`: `writer.add_scalar('loss/train', ...)`) do not count.

Its limit: an unknown function given a path computed at run time or made by an earlier step, with no
literal in sight (`store(results, make_path())`), is not seen. Use `--after STEP` for such a step.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from .cell_python import parse_python, to_python
from .tree_nodes import walk

# What names mean when no cell imports them otherwise: the aliases everyone writes.
CONVENTIONAL = {
    "np": "numpy", "pd": "pandas", "plt": "matplotlib.pyplot", "mpl": "matplotlib", "sns": "seaborn",
    "Path": "pathlib.Path", "os": "os", "shutil": "shutil", "glob": "glob", "json": "json",
    "pickle": "pickle", "joblib": "joblib", "subprocess": "subprocess", "tarfile": "tarfile",
    "zipfile": "zipfile", "torch": "torch", "yaml": "yaml", "io": "io", "codecs": "codecs",
}  # fmt: skip

WRITES = frozenset(
    {
        *(f"os.{f}" for f in "makedirs mkdir remove unlink rmdir removedirs rename renames replace symlink "
          "link chmod chown utime truncate mkfifo system popen".split()),
        *(f"shutil.{f}" for f in "copy copy2 copyfile copytree move rmtree make_archive unpack_archive "
          "copymode copystat chown".split()),
        *(f"subprocess.{f}" for f in "run call check_call check_output Popen getoutput "
          "getstatusoutput".split()),
        "numpy.save", "numpy.savez", "numpy.savez_compressed", "numpy.savetxt", "numpy.memmap",
        "matplotlib.pyplot.savefig", "matplotlib.pyplot.imsave", "pandas.ExcelWriter", "pandas.HDFStore",
        "json.dump", "pickle.dump", "joblib.dump", "marshal.dump", "dill.dump", "cloudpickle.dump",
        "torch.save", "toml.dump", "sqlite3.connect", "urllib.request.urlretrieve",
    }
)  # fmt: skip
READS = frozenset(
    {
        *(f"os.{f}" for f in "listdir scandir walk stat lstat access readlink chdir".split()),
        *(f"os.path.{f}" for f in "exists lexists isfile isdir islink getsize getmtime getatime getctime "
          "samefile".split()),
        "glob.glob", "glob.iglob", "shutil.disk_usage", "numpy.load", "numpy.loadtxt", "numpy.genfromtxt",
        "numpy.fromfile", "matplotlib.pyplot.imread", "json.load", "pickle.load", "joblib.load",
        "marshal.load", "dill.load", "cloudpickle.load", "torch.load", "yaml.load", "yaml.safe_load",
        "yaml.full_load", "toml.load",
    }
)  # fmt: skip
# Calls whose mode decides: name -> (position of the mode argument, its keyword, the default mode).
MODED = {
    "open": (1, "mode", "r"), "io.open": (1, "mode", "r"), "codecs.open": (1, "mode", "r"),
    "gzip.open": (1, "mode", "rb"), "bz2.open": (1, "mode", "rb"), "lzma.open": (1, "mode", "rb"),
    "tarfile.open": (1, "mode", "r"), "zipfile.ZipFile": (1, "mode", "r"), "h5py.File": (1, "mode", "r"),
    "shelve.open": (1, "flag", "c"), "dbm.open": (1, "flag", "r"), "os.open": (1, "flags", "w"),
}  # fmt: skip
# Modules whose other functions never touch files (so `pd.to_datetime(s, format='%d/%m')` does not).
PURE_MODULES = frozenset(
    "numpy pandas matplotlib seaborn math re datetime time random string itertools functools "
    "collections statistics typing json operator os.path".split()
)
PURE_BUILTINS = frozenset(
    "print len str repr int float bool list dict set tuple sorted isinstance format range enumerate zip "
    "sum min max abs round type getattr hasattr setattr map filter any all pathlib.Path pathlib.PurePath "
    "pathlib.PosixPath os.fspath".split()
)
# Methods of any object, by name alone.
WRITE_METHODS = frozenset(
    "savefig tofile mkdir touch write_text write_bytes unlink rmdir symlink_to hardlink_to extractall "
    "save save_model save_weights save_pretrained imwrite imsave to_parquet to_excel to_pickle to_feather "
    "to_hdf to_stata to_orc to_netcdf to_zarr to_file to_sql".split()
)
READ_METHODS = frozenset("read_text read_bytes iterdir rglob glob is_file is_dir load_weights".split())
TEXT_OR_FILE = frozenset("to_csv to_json to_html to_latex to_markdown to_string to_xml".split())
PATH_ARG_KEYWORDS = ("path_or_buf", "buf", "path")
PATH_METHODS = {"rename": True, "replace": True, "chmod": True, "exists": False, "stat": False}
NO_FILE_METHODS = frozenset(
    "endswith startswith split rsplit replace strip lstrip rstrip join format count find index partition "
    "lower upper title xlabel ylabel suptitle legend text annotate label plot scatter hist bar get "
    "info debug warning error exception critical log contains match fullmatch".split()
)
# An unknown call reads if a word of its name (split at _ and camelCase) starts with one of these
# (`load_data`, `loadmat`, `imread`, `listFiles`, boto3's `get_object`; not `download`); else it may write.
READ_WORDS = frozenset(
    "read load open list exists glob scan stat imread listdir isfile isdir iterdir readlines loadtxt "
    "artifact artifacts get fetch head describe".split()
)
# Calls that log or tag: their `loss/train` strings are names, not paths.
_TAG_PREFIXES = ("add_", "log_", "set_")
_EXTENSION = re.compile(
    r"\.(csv|tsv|txt|json|jsonl|parquet|feather|pkl|pickle|joblib|npy|npz|png|jpe?g|svg|pdf|gif|tiff?|h5|"
    r"hdf5|xlsx?|ya?ml|zip|gz|tar|bz2|xz|html?|md|log|db|sqlite|onnx|pt|pth|ckpt|bin|dat|xml|arrow|orc|"
    r"wav|mp3|mp4|nc|mat|toml|ini|cfg|keras|model)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FileUse:
    line: int  # the user's line in the cell
    what: str  # the call, as the user wrote its start: "os.makedirs(...)", "open(..., 'w')"


@dataclass(frozen=True)
class FileEffects:
    read: FileUse | None = None  # the first line that reads files (without writing)
    write: FileUse | None = None  # the first line that may write files or create/delete folders

    @property
    def reads_files(self) -> bool:
        return self.read is not None

    @property
    def writes_files(self) -> bool:
        return self.write is not None

    @property
    def uses_files(self) -> bool:
        return self.read is not None or self.write is not None

    @property
    def first(self) -> FileUse | None:
        """The first line touching files at all."""
        uses = [u for u in (self.read, self.write) if u is not None]
        return min(uses, key=lambda u: u.line) if uses else None


def looks_like_path(text: str) -> bool:
    if not text or len(text) > 300 or any(c.isspace() for c in text) or "://" in text or "%" in text:
        return False
    if not re.search(r"[A-Za-z0-9_]", text):
        return False
    return "/" in text or "\\" in text or bool(_EXTENSION.search(text))


def _strings(node: ast.AST) -> list[str]:
    """String constants in an expression, the literal parts of f-strings included."""
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _dotted(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def imported_names(tree: ast.AST) -> dict[str, str]:
    """Names bound by imports anywhere in `tree` -> what they are (`from os import path` -> os.path)."""
    found: dict[str, str] = {}
    for node in walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    found[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


_PERCENT_FIELD = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdifr]")


class _Finder:
    def __init__(self, tree: ast.Module, aliases: Mapping[str, str], helpers: Mapping[str, FileEffects]):
        self.aliases = {**CONVENTIONAL, **aliases, **imported_names(tree)}
        self.helpers = helpers
        self.pathish: set[str] = set()  # names bound to pathlib paths
        self.path_names: set[str] = set()  # names bound to strings that look like paths
        for _ in range(2):  # a second pass sees names made from names
            for node in walk(tree):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and self._is_path(node.value):
                            self.pathish.add(target.id)
                        if isinstance(target, ast.Name) and self._is_path_string(node.value):
                            self.path_names.add(target.id)

    def _is_path_string(self, node: ast.expr) -> bool:
        """Whether an assigned value is a path as text: a literal that looks like one, an f-string,
        `+` or `%` with one, `os.path.join(...)`, `'data/{}.csv'.format(...)`, or a name holding one.
        Not what a call returns for a path (`pd.read_csv('a.csv')` is a frame, not a path)."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str) and looks_like_path(node.value)
        if isinstance(node, ast.JoinedStr):
            return any(map(looks_like_path, _strings(node)))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # 'results/%s.csv' % name
            template = node.left
            if isinstance(template, ast.Constant) and isinstance(template.value, str):
                return looks_like_path(_PERCENT_FIELD.sub("x", template.value))
            return self._is_path_string(template)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._is_path_string(node.left) or self._is_path_string(node.right)
        if isinstance(node, ast.IfExp):
            return self._is_path_string(node.body) or self._is_path_string(node.orelse)
        if isinstance(node, ast.Name):
            return node.id in self.path_names
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and self._is_path_string(node.func.value):
                return True  # 'data/{}.csv'.format(day), base.replace('.csv', '.parquet')
            name = self.resolve(node.func)
            if name is not None and (
                name.startswith("os.path.") or name in ("str", "os.fspath", "os.getcwd")
            ):
                return any(self._is_path_string(a) for a in node.args)
        return False

    def resolve(self, func: ast.expr) -> str | None:
        parts = _dotted(func)
        if parts is None:
            return None
        # A name no cell imports is taken as what it says (`re.sub` is re's sub).
        return ".".join([self.aliases.get(parts[0], parts[0]), *parts[1:]])

    def _is_path(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Call):
            name = self.resolve(node.func)
            if name in ("pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"):
                return True
            return isinstance(node.func, ast.Attribute) and self._is_path(node.func.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self._is_path(node.left)
        if isinstance(node, ast.Attribute) and node.attr in ("parent", "parents"):
            return self._is_path(node.value)
        return isinstance(node, ast.Name) and node.id in self.pathish

    def classify(self, call: ast.Call) -> tuple[str, str] | None:
        """("read" | "write", what) for a call touching files, None otherwise."""
        func = call.func
        shown = ast.unparse(func)
        name = self.resolve(func)
        if name is not None and name in MODED:
            return self._moded(call, shown, *MODED[name])
        if name in WRITES:
            return "write", f"{shown}(...)"
        if name in READS or (name and name.startswith("pandas.read_")):
            return "read", f"{shown}(...)"
        if name in ("yaml.dump", "yaml.safe_dump") and (len(call.args) > 1 or call.keywords):
            return "write", f"{shown}(...)"
        if isinstance(func, ast.Name) and func.id in self.helpers:
            helper = self.helpers[func.id]
            kind = "write" if helper.writes_files else "read"
            return kind, f"{shown}(...), a setup function that {kind}s files"
        if isinstance(func, ast.Attribute):
            found = self._method(call, func, shown)
            if found is not None:
                return found
        return self._by_arguments(call, func, shown, name)

    def _moded(
        self, call: ast.Call, shown: str, position: int, keyword: str, default: str
    ) -> tuple[str, str]:
        mode: ast.expr | None = call.args[position] if len(call.args) > position else None
        mode = next((k.value for k in call.keywords if k.arg == keyword), mode)
        if mode is None:
            text = default
        elif isinstance(mode, ast.Constant) and isinstance(mode.value, str):
            text = mode.value
        else:
            return "write", f"{shown}(..., {ast.unparse(mode)})"  # a mode it cannot know
        kind = "write" if set(text) & set("wax+c") else "read"
        return kind, f"{shown}(...)" if mode is None else f"{shown}(..., {text!r})"

    def _method(self, call: ast.Call, func: ast.Attribute, shown: str) -> tuple[str, str] | None:
        method = func.attr
        if method in WRITE_METHODS:
            return "write", f"{shown}(...)"
        if method in TEXT_OR_FILE:
            given = call.args[:1] + [k.value for k in call.keywords if k.arg in PATH_ARG_KEYWORDS]
            if any(not (isinstance(g, ast.Constant) and g.value is None) for g in given):
                return "write", f"{shown}(...)"
            return None
        if method in READ_METHODS:
            return "read", f"{shown}(...)"
        if self._is_path(func.value):
            if method == "open":
                return self._moded(call, shown, 0, "mode", "r")
            if method in PATH_METHODS:
                return ("write" if PATH_METHODS[method] else "read"), f"{shown}(...)"
        if method.startswith("read_"):
            return "read", f"{shown}(...)"
        if method.startswith("write_"):  # polars' write_csv, write_parquet, ...
            return "write", f"{shown}(...)"
        return None

    def _by_arguments(
        self, call: ast.Call, func: ast.expr, shown: str, name: str | None
    ) -> tuple[str, str] | None:
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        pure = name is not None and {name.split(".")[0], name.rsplit(".", 1)[0]} & PURE_MODULES
        if pure or name in PURE_BUILTINS:
            return None
        words = set(re.split(r"[_\W]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", last).lower()))
        if last in NO_FILE_METHODS or (
            last.startswith(_TAG_PREFIXES) and not words & {"artifact", "artifacts"}
        ):
            return None
        if isinstance(func, ast.Attribute) and isinstance(func.value, (ast.Constant, ast.JoinedStr)):
            return None  # a method of a string: '/'.join(...)
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "str"
        ):
            return None  # pandas' string methods: s.str.split('/')
        arguments = [*call.args, *(k.value for k in call.keywords)]
        paths = [s for a in arguments for s in _strings(a) if looks_like_path(s)]
        named = [
            n.id
            for a in arguments
            for n in ast.walk(a)
            if isinstance(n, ast.Name) and n.id in self.path_names
        ]
        if not paths and not named:
            return None
        given = repr(paths[0]) if paths else named[0]
        kind = "read" if any(w.startswith(tuple(READ_WORDS)) for w in words) else "write"
        return kind, f"{shown}(...) given the path {given}"


def file_effects(
    source: str | ast.Module,
    *,
    first_line: int = 1,
    cell: str = "cell",
    aliases: Mapping[str, str] | None = None,
    helpers: Mapping[str, FileEffects] | None = None,
    path_names: Collection[str] = (),
    user_line: Callable[[int], int | None] | None = None,
) -> FileEffects:
    """What `source` (a cell's IPython source, or a parsed module) may do with files.

    `first_line` is the user's number of its first line (2 for a `%%component` body); `aliases` are
    names imported by other cells (they travel into steps); `helpers` the setup cell's functions;
    `path_names` names that hold paths from elsewhere (parameters and setup values such as `out_dir`);
    `user_line`, for a parsed module, the user's line of each of its lines (the cell analysis's map).
    """
    if isinstance(source, ast.Module):
        tree, line_map = source, user_line
    else:
        python = to_python(source, cell=cell, first_line=first_line)
        tree, line_map = parse_python(python.text), python.user_line
    finder = _Finder(tree, aliases or {}, helpers or {})
    finder.path_names.update(path_names)
    read: FileUse | None = None
    write: FileUse | None = None
    calls = sorted((n for n in walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    for call in calls:
        found = finder.classify(call)
        if found is None:
            continue
        line = call.lineno + first_line - 1 if line_map is None else line_map(call.lineno)
        use = FileUse(line or first_line, found[1])
        if found[0] == "write" and write is None:
            write = use
        elif found[0] == "read" and read is None:
            read = use
    return FileEffects(read=read, write=write)


def _setup_tree(source: str | ast.Module) -> ast.Module:
    if isinstance(source, ast.Module):
        return source
    return parse_python(to_python(source, cell="%%pipeline setup").text)


def path_constants(source: str | ast.Module) -> set[str]:
    """Top-level names the setup cell assigns a string that looks like a path (`OUT = 'figures/'`)."""
    tree = _setup_tree(source)
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and any(map(looks_like_path, _strings(node.value)))
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def setup_helpers(
    source: str | ast.Module, *, aliases: Mapping[str, str] | None = None
) -> dict[str, FileEffects]:
    """The setup cell's top-level functions that touch files, by name (its source, or its tree)."""
    tree = _setup_tree(source)
    helpers: dict[str, FileEffects] = {}
    names = {**(aliases or {}), **imported_names(tree)}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found = file_effects(ast.Module(body=[node], type_ignores=[]), aliases=names)
            if found.uses_files:
                helpers[node.name] = found
    return helpers

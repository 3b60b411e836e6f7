"""IPython magics: `%%component`, `%%pipeline setup|params` and `%pipeline SUBCOMMAND`.

A thin edge: it parses lines and calls the library. Errors are shown as one short message (IPython's
UsageError), not as a traceback through this package. Importing this module must stay cheap: kfp,
backends and widgets load on first use.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from IPython.core import error as ipython_error
from IPython.core.magic import Magics, cell_magic, line_cell_magic, magics_class

from ..errors import MlopsError, UsageError
from ..notebook.options import _Parser, split_magic_line
from ..notebook.pipeline import normalize_source
from ..notebook.workspace import Workspace, default_pipeline_name, kernel_notebook_path

_OWN_CELL_MAGIC = re.compile(r"%%(component|pipeline)\b")  # cells that are not plain cells

F = TypeVar("F", bound=Callable[..., Any])


def _friendly(func: F) -> F:
    """Show our errors as a one-line UsageError instead of a traceback through the package."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # IPython leaves this frame out of tracebacks
        try:
            return func(*args, **kwargs)
        except MlopsError as exc:
            if hasattr(exc, "_render_traceback_"):
                raise  # the user's cell code raised it: shown as their traceback (see _run_cell)
            raise ipython_error.UsageError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def _request_metadata(shell: Any) -> dict[str, Any]:
    """The metadata of the execute request running now (ipykernel), else {}."""
    get_parent = getattr(getattr(shell, "kernel", None), "get_parent", None)
    try:
        parent = get_parent() if callable(get_parent) else None
    except Exception:  # an older ipykernel or no request: nothing to learn
        return {}
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    return metadata if isinstance(metadata, dict) else {}


@magics_class
class PipelineMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        path = kernel_notebook_path(shell.user_ns) if shell is not None else None
        self.workspace = Workspace(default_pipeline_name(path))
        from ..notebook.folder import notebook_folder

        self.notebook_folder = notebook_folder(path)  # where the steps of its runs work (folder.py)
        self._cell_id: str | None = None  # the notebook cell id of the cell running now, if sent
        self._running_body = False  # True while a magic runs its cell's code (a nested run_cell)
        self._definitions_in_cell = 0
        self.last_run_id: str | None = None
        self.backend_name = "local"
        self.backend_options: dict[str, Any] = {}

    # -- cells -------------------------------------------------------------------------------------
    def before_cell(self, info: Any) -> None:
        """IPython's `pre_run_cell` event: note the cell id the frontend sent with this execution.

        JupyterLab and Notebook 7 send each cell's notebook id (ipykernel hands it to IPython as
        `info.cell_id`); nbclient, papermill and the classic Notebook send none. JupyterLab also
        sends the ids of the cells deleted since the last execution (`deletedCells` in the
        request's metadata): what they defined goes, so the kernel's pipeline stays the notebook's.
        Our own nested `run_cell` of a cell's body is not a new cell.
        """
        if self._running_body:
            return
        metadata = _request_metadata(self.shell)
        cell_id = getattr(info, "cell_id", None) or metadata.get("cellId")
        self._cell_id = cell_id if isinstance(cell_id, str) and cell_id else None
        self._definitions_in_cell = 0
        deleted = metadata.get("deletedCells")
        if isinstance(deleted, list):
            for gone in deleted:
                if isinstance(gone, str) and gone:
                    self.workspace.forget_cell(f"id:{gone}")

    def after_cell(self, result: Any) -> None:
        """IPython's `post_run_cell` event: remember a plain cell under the number its prompt shows."""
        if self._running_body:
            return
        info = getattr(result, "info", None)
        cell_id = getattr(info, "cell_id", None) or self._cell_id
        count = getattr(result, "execution_count", None)
        self._note_plain_cell(
            getattr(info, "raw_cell", None), cell_id if isinstance(cell_id, str) else None, count
        )

    def _note_plain_cell(self, source: Any, cell_id: str | None, count: Any) -> None:
        """Remember a cell without a pipeline magic, so that an error about a name no step provides can
        say that this cell defines it (`notebook/plain_cells.py`)."""
        if not isinstance(source, str) or not source.strip() or _OWN_CELL_MAGIC.match(source.lstrip()):
            return
        label = f"In [{count}]" if isinstance(count, int) else "an earlier cell"
        key = f"id:{cell_id}" if cell_id else f"exec:{count}"
        self.workspace.plain_cells.record(key, label, source)

    def note_history(self) -> None:
        """The cells run before `%load_ext` (IPython's `In` history), usually the imports."""
        history = self.shell.user_ns.get("In") if self.shell is not None else None
        if isinstance(history, list):
            for count, source in enumerate(history[1:], start=1):
                self._note_plain_cell(source, None, count)

    def _learn_notebook_name(self) -> None:
        """Name the default pipeline after the notebook as soon as the kernel can tell which it is."""
        if self.shell is not None:
            path = kernel_notebook_path(self.shell.user_ns)
            if path is not None:
                self.workspace.set_default_name(default_pipeline_name(path))

    def _cell_key(self, header: str, body: str) -> str:
        """Which notebook cell a definition comes from, so a re-run replaces that cell's definition.

        The notebook cell id when the frontend sends one (the same id the .ipynb stores, so the CLI
        agrees). Without ids, the cell's text: re-running an unchanged cell replaces itself, while an
        edited cell counts as a new one (its old version stays until `%pipeline new` or a restart).
        A second definition in the same execution (a loop calling `run_cell_magic`) gets its own key.
        """
        self._definitions_in_cell += 1
        if self._cell_id is not None:
            suffix = "" if self._definitions_in_cell == 1 else f"#{self._definitions_in_cell}"
            return f"id:{self._cell_id}{suffix}"
        return "text:" + normalize_source(f"{header}\n{body}")

    def _run_cell(self, body: str, header: str) -> Any:
        """Run the cell's code in the kernel; if it raises, fail this cell with the code's own traceback.

        The code runs under a comment holding the magic line (`# %%component train`), so a traceback
        numbers the lines as the user's cell does (the magic line is line 1) and shows that line;
        not when the body starts with a cell magic of its own (`%%time`), which must come first.

        IPython's nested `run_cell` catches the error and shows it, so the outer cell would succeed
        and Run All, nbclient and papermill would carry on. The traceback IPython would have shown is
        kept instead of shown, and the user's exception is raised again carrying it: IPython shows an
        exception's `_render_traceback_()` as is, so the user sees their code's traceback once, and
        the kernel replies with an error named by their exception.
        """
        __tracebackhide__ = True  # IPython leaves this frame out of tracebacks
        shell = self.shell
        assert shell is not None  # magics are registered on a shell
        shown: list[tuple[Any, Any, list[str]]] = []

        def keep(etype: Any, value: Any, stb: list[str]) -> None:
            shown.append((etype, value, stb))

        if not body.lstrip("\n").startswith("%%"):
            body = f"# {header}\n{body}"
        before = vars(shell).get("_showtraceback")  # normally none: the class's method shows
        setattr(shell, "_showtraceback", keep)  # noqa: B010 (an instance attribute over the method)
        self._running_body = True
        # IPython hides a last value followed by `;` by looking at the newest history entry, which a
        # nested run does not write: tell it here (silent also keeps the value out of `_`/`Out`).
        from IPython.core.displayhook import DisplayHook

        quiet = DisplayHook.semicolon_at_end_of_expression(body)
        runner = shell.loop_runner
        shell.loop_runner = _in_a_loop_of_its_own  # top-level await in the body (see there)
        try:
            result = shell.run_cell(body, store_history=False, silent=quiet)
        finally:
            shell.loop_runner = runner
            self._running_body = False
            if before is None:
                delattr(shell, "_showtraceback")  # the class's method shows again
            else:
                setattr(shell, "_showtraceback", before)  # noqa: B010
        error = None if result is None else result.error_before_exec or result.error_in_exec
        if error is None or not isinstance(error, BaseException):
            for etype, value, stb in shown:  # e.g. an error in a display hook: shown as IPython would
                shell._showtraceback(etype, value, stb)
            return None if result is None else result.result
        traceback = next((stb for _, value, stb in reversed(shown) if value is error), None)
        if traceback is None:  # nothing was kept for it: let IPython format it at the outer cell
            raise error
        error._render_traceback_ = lambda: traceback  # type: ignore[attr-defined]
        raise error

    @cell_magic
    @_friendly
    def component(self, line: str, cell: str) -> Any:
        """%%component NAME [options]: this cell is step NAME of the active pipeline."""
        self._learn_notebook_name()
        key = self._cell_key(f"%%component {line}", cell)
        step = self.workspace.define_component(line, cell, key)
        from ..analysis.cell import analyze_cell  # on first use: %load_ext stays cheap

        analyze_cell(step.source, cell=step.name, first_line=2)  # syntax and IPython-line problems show now
        if not step.options.define_only:
            self._run_cell(cell, f"%%component {line}")
        return None

    @line_cell_magic
    @_friendly
    def pipeline(self, line: str, cell: str | None = None) -> Any:
        """%%pipeline setup|params (cell), or %pipeline SUBCOMMAND (line)."""
        self._learn_notebook_name()
        if cell is not None:
            sub, _, rest = line.strip().partition(" ")
            key = self._cell_key(f"%%pipeline {line}", cell)
            pipeline = self.workspace.active
            try:
                if sub == "setup":
                    from ..analysis.cell import analyze_cell

                    analyze_cell(normalize_source(cell), cell="%%pipeline setup", first_line=2)
                    setup = self.workspace.define_setup(rest, cell, key)
                    if not setup.options.define_only:
                        self._run_cell(cell, f"%%pipeline {line}")
                elif sub == "params":
                    self.workspace.define_params(cell, key)
                    self._run_cell(cell, f"%%pipeline {line}")
                else:
                    raise UsageError(f"%%pipeline {sub!r}: as a cell magic it takes `setup` or `params`")
            except BaseException:
                # Without a cell id the fixed cell is a new cell (its text differs): a failed one must
                # not stay behind it. With an id the fix replaces it, as the CLI reads the notebook.
                if key.startswith("text:"):
                    pipeline.forget_cell(key)
                raise
            return None
        words = split_magic_line(line, "%pipeline")
        if not words:
            raise UsageError("%pipeline needs a subcommand: " + ", ".join(sorted(self._subcommands())))
        handler = self._subcommands().get(words[0])
        if handler is None:
            known = ", ".join(sorted(self._subcommands()))
            raise UsageError(f"%pipeline: unknown subcommand {words[0]!r} (known: {known})")
        return handler(words[1:])

    def _subcommands(self) -> dict[str, Callable[[list[str]], Any]]:
        from . import results as magics_results
        from . import runs as magics_runs

        table: dict[str, Callable[[list[str]], Any]] = {
            "new": lambda a: self._structure("new", a),
            "use": lambda a: self._structure("use", a),
            "show": self._show,
            "compile": self._compile,
        }
        table.update(magics_runs.subcommands(self))
        table.update(magics_results.subcommands(self))
        from . import schedules as schedule_magics
        from . import sweeps as sweep_magics

        table.update(sweep_magics.subcommands(self))
        table.update(schedule_magics.subcommands(self))
        from ..tensorboards.commands import magic as tensorboard_magic

        table["tensorboard"] = tensorboard_magic(self)
        return table

    # -- structure ---------------------------------------------------------------------------------
    def _structure(self, verb: str, args: list[str]) -> None:
        others = [n for n, p in self.workspace.pipelines.items() if p.steps]
        self.workspace.pipeline_line(shlex.join([verb, *args]))
        name = self.workspace.active.name
        if verb == "use" and name not in others and others:  # a typo would go unnoticed otherwise
            listed = ", ".join(n for n in others if n != name)
            print(
                f"Using pipeline {name!r}, which has no steps yet (pipelines with steps: {listed}): "
                "the %%component cells that follow define its steps."
            )
            return
        print(f"{'New' if verb == 'new' else 'Using'} pipeline {name!r}.")

    def _show(self, args: list[str]) -> Any:
        p = _Parser(prog="%pipeline show", add_help=False)
        p.add_argument("name", nargs="?")
        opts = p.parse_args(args)
        from ..compiler import plan_pipeline
        from ..widgets.plan_display import show_pipeline

        return show_pipeline(plan_pipeline(self.workspace.get(opts.name)))

    def _compile(self, args: list[str]) -> None:
        p = _Parser(prog="%pipeline compile", add_help=False)
        p.add_argument("path", nargs="?")
        p.add_argument("--pipeline")
        opts = p.parse_args(args)
        pipeline = self.workspace.get(opts.pipeline)
        from ..compiler import compile_yaml

        text = compile_yaml(pipeline)
        out = Path(opts.path or f"{pipeline.name}.yaml")
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror}") from None
        print(f"Compiled pipeline {pipeline.name!r} ({len(pipeline.steps)} steps) to {out}")


def register(ipython: Any) -> PipelineMagics:
    magics = PipelineMagics(ipython)
    ipython.register_magics(magics)
    ipython.events.register("pre_run_cell", magics.before_cell)
    ipython.events.register("post_run_cell", magics.after_cell)
    magics.note_history()
    # log_metric and logdir work in plain cells too (recorded against the notebook session), so a cell
    # behaves the same in the kernel and as a step.
    from .. import session_api

    ipython.user_ns.setdefault("log_metric", session_api.log_metric)
    ipython.user_ns.setdefault("logdir", session_api.logdir)
    ipython.user_ns.setdefault("log_embedding", session_api.log_embedding)
    return magics


def _in_a_loop_of_its_own(coroutine: Any) -> Any:
    """Run a cell body that awaits at its top level (IPython runs such a cell through its
    `loop_runner`). The magic's cell is itself being run by the kernel's event loop, which cannot run
    another coroutine to its end from inside: the body runs in an event loop of its own, in a thread,
    while this one waits (the body's output still goes to this cell). An interrupt (Ctrl+C, the
    kernel's stop button) cancels the body's task, lets its cleanup run for a moment, and stops the
    cell with KeyboardInterrupt, as a plain awaiting cell would."""
    import asyncio
    import threading

    outcome: dict[str, Any] = {}
    running: dict[str, Any] = {}
    started = threading.Event()

    async def body() -> Any:
        running["loop"], running["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        return await coroutine

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(body())
        except BaseException as exc:  # raised again in the caller's thread, as the runner would
            outcome["error"] = exc
        finally:
            started.set()

    thread = threading.Thread(target=run, name="mlops-cell-await", daemon=True)
    thread.start()
    try:
        thread.join()
    except KeyboardInterrupt:
        started.wait(_CANCEL_WAIT_S)
        if "task" in running:
            try:
                running["loop"].call_soon_threadsafe(running["task"].cancel)
            except RuntimeError:  # its loop has closed: the body ended meanwhile
                pass
        thread.join(_CANCEL_WAIT_S)  # its `finally:`/`except CancelledError:` blocks run
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# How long an interrupted awaiting cell waits for its cancelled body to clean up (a second Ctrl+C
# stops the wait at once).
_CANCEL_WAIT_S = 5.0

"""Run notebooks in a real kernel (ipykernel), as Jupyter frontends and headless tools do.

`execute_notebook` is nbclient, as papermill and `jupyter nbconvert --execute` use it: it sends no
cell ids. `KernelSession` sends each cell with its notebook cell id in the request's metadata
(`cellId`), as JupyterLab and Notebook 7 do, so a test can re-run a cell the way a user does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_notebook


def notebook(sources: list[str]) -> Any:
    """A Python notebook as Jupyter saves one (nbformat 4.5: every cell has an id)."""
    return new_notebook(
        cells=[new_code_cell(s) for s in sources],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )


def execute_notebook(nb: Any, cwd: Path, env: dict[str, str] | None = None) -> Any:
    """Run every cell top to bottom in a fresh kernel; CellExecutionError for a failed cell."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute(env={**os.environ, **(env or {})})
    return nb


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str) -> str:
    """Text without the terminal colours IPython puts in tracebacks."""
    return _ANSI.sub("", text)


def outputs_text(cell: Any) -> str:
    parts: list[str] = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return plain("".join(parts))


class KernelSession:
    """A live kernel that runs cells one by one, each with its cell id, as JupyterLab sends them."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None) -> None:
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(
            kernel_name="python3", cwd=str(cwd), env={**os.environ, **(env or {})}
        )

    def run(
        self, source: str, cell_id: str | None = None, deleted: list[str] | None = None
    ) -> tuple[dict[str, Any], str]:
        """(execute_reply content, everything the cell printed or showed, tracebacks included).

        `deleted`: ids of cells deleted since the last execution, which JupyterLab sends along.
        """
        content = {
            "code": source,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        metadata: dict[str, Any] = {"cellId": cell_id} if cell_id is not None else {}
        if deleted is not None:
            metadata["deletedCells"] = deleted
        msg = self.kc.session.msg("execute_request", content, metadata=metadata)
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        shown: list[str] = []
        while True:
            io = self.kc.get_iopub_msg(timeout=120)
            if io["parent_header"].get("msg_id") != msg_id:
                continue
            kind, data = io["msg_type"], io["content"]
            if kind == "stream":
                shown.append(data["text"])
            elif kind == "error":
                shown.append("\n".join(data["traceback"]))
            elif kind in ("execute_result", "display_data"):
                shown.append(data["data"].get("text/plain", ""))
            elif kind == "status" and data["execution_state"] == "idle":
                break
        while True:
            reply = self.kc.get_shell_msg(timeout=120)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], plain("".join(shown))

    def value(self, expression: str) -> str:
        """The repr of `expression` evaluated in the kernel."""
        reply, shown = self.run(f"print(repr({expression}), end='')")
        assert reply["status"] == "ok", reply
        return shown

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def write(nb: Any, path: Path) -> Path:
    nbformat.write(nb, str(path))
    return path

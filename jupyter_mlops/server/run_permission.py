"""Creating a run is running code (issue 12, item 8): a pipeline's steps run as the server's user, like
a kernel's cells. So run creation asks the server's authorizer for the permission that running code
needs elsewhere in Jupyter (`execute` on `kernels`), on top of `write` on `mlops`: an authorizer that
forbids kernels forbids this too. A notebook the contents API would hide (a dotted folder or file,
unless `ContentsManager.allow_hidden`) is not run either."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_core.paths import is_hidden
from jupyter_server.utils import ensure_async

from .base import http_error

EXECUTE_ACTION, EXECUTE_RESOURCE = "execute", "kernels"


async def check_may_run_code(handler: Any) -> None:
    allowed = await ensure_async(
        handler.authorizer.is_authorized(handler, handler.current_user, EXECUTE_ACTION, EXECUTE_RESOURCE)
    )
    if not allowed:
        raise http_error(
            403,
            "creating a run runs its steps' code as the server's user, like a kernel does; this server's "
            f"authorizer does not let you {EXECUTE_ACTION!r} on {EXECUTE_RESOURCE!r}. Ask its administrator",
        )


def check_not_hidden(handler: Any, path: Path, root: Path, relative: str) -> None:
    manager = getattr(handler, "contents_manager", None)
    if getattr(manager, "allow_hidden", False):
        return
    if is_hidden(str(path), str(root)):
        raise http_error(
            404,
            f"no notebook {relative!r} to run: it is hidden (a name starting with '.'), and this server "
            "does not serve hidden files (ContentsManager.allow_hidden)",
        )

"""REST handlers of the server extension. Every verb is authenticated and authorized.

Routes are relative to the server's base URL; `MlopsExtensionApp` prefixes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin

import jupyter_mlops

if TYPE_CHECKING:
    from .app import MlopsExtensionApp

API_PREFIX = "/mlops/api"

# The resource name jupyter-server's Authorizer sees for every jupyter-mlops call: a deployment can
# grant or deny "mlops" like it does "contents" or "kernels".
AUTH_RESOURCE = "mlops"


class MlopsHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every jupyter-mlops handler: gives access to the extension's configuration."""

    auth_resource = AUTH_RESOURCE

    @property
    def mlops_app(self) -> MlopsExtensionApp:
        # The mixin types it as the base ExtensionApp; the server gives each handler its own app.
        return cast("MlopsExtensionApp", self.extensionapp)


class StatusHandler(MlopsHandler):
    """`GET mlops/api/status`: which backend runs pipelines and whether it can be reached."""

    @tornado.web.authenticated
    @authorized
    def get(self) -> None:
        status: dict[str, Any] = {
            "backend": self.mlops_app.backend,
            "reachable": True,
            "version": jupyter_mlops.__version__,
        }
        self.finish(status)


def handlers() -> list[tuple[str, type[MlopsHandler]]]:
    """The URL patterns and their handlers, relative to the server's base URL."""
    return [
        (rf"{API_PREFIX}/status", StatusHandler),
    ]

"""A bare HTML page that draws a notebook's widgets with @jupyter-widgets/html-manager, the widget manager
of ipywidgets' "Embed widgets" export: no Jupyter server, no JupyterLab, no extension of ours. The page
gets the widget state the kernel sent over the comm (as nbclient saved it in the notebook's metadata) and
the view outputs of the cells, loads anywidget's own front end (its AMD build, shipped in the anywidget
wheel) through require.js, and anywidget runs the ESM each widget carries, as a frontend like Colab's does.

html-manager and require.js come from the npm registry (`npm pack`, pinned versions) into a cache folder
the first time; the page is served from 127.0.0.1 and the browser may fetch nothing from anywhere else.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HTML_MANAGER = ("@jupyter-widgets/html-manager", "1.0.15")  # the ipywidgets 8.1 line
REQUIREJS = ("requirejs", "2.3.8")
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def npm_package(name: str, version: str) -> Path:
    """The unpacked npm package (its `package/` folder), fetched once with `npm pack`."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jupyter-mlops-tests" / "npm"
    folder = cache / f"{name.replace('/', '+')}-{version}"
    if not (folder / "package" / "package.json").is_file():
        npm = shutil.which("npm")
        assert npm, "npm is needed to fetch the widget manager the Colab-like page uses (Node.js 20)"
        tmp = cache / f".{folder.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        packed = subprocess.run(
            [npm, "pack", f"{name}@{version}", "--pack-destination", str(tmp)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert packed.returncode == 0, packed.stdout + packed.stderr
        (tarball,) = tmp.glob("*.tgz")
        with tarfile.open(tarball) as tar:
            for member in tar.getmembers():  # Debian 12's Python 3.11.2 has no extraction filters yet
                assert member.isfile() or member.isdir(), f"{tarball}: {member.name} is a link"
                assert member.name.startswith("package/") and ".." not in member.name.split("/"), member.name
            tar.extractall(tmp)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    return folder / "package"


def _script(mime: str, value: Any) -> str:
    text = json.dumps(value).replace("</", "<\\/")  # no "</script>" inside
    return f'<script type="{mime}">{text}</script>'


def build_site(site: Path, state: dict[str, Any], views: list[dict[str, Any]]) -> Path:
    """A folder with index.html (the state, then each view where its cell's output would be) and the
    scripts it loads."""
    import anywidget

    site.mkdir(parents=True, exist_ok=True)
    dist = npm_package(*HTML_MANAGER) / "dist"
    for f in dist.iterdir():
        if f.suffix != ".map":
            shutil.copy(f, site / f.name)
    shutil.copy(npm_package(*REQUIREJS) / "require.js", site / "require.js")
    (site / "anywidget").mkdir(exist_ok=True)
    shutil.copy(Path(anywidget.__file__).parent / "nbextension" / "index.js", site / "anywidget" / "index.js")
    outputs = "\n".join(f'<div class="output">{_script(WIDGET_VIEW, v)}</div>' for v in views)
    (site / "index.html").write_text(
        f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Colab-like widget page</title><link rel="icon" href="data:,">
<script src="require.js"></script>
<script>requirejs.config({{paths: {{anywidget: "anywidget/index"}}}});</script>
<!-- a widget module require.js does not know would come from this CDN: here a local path that 404s -->
<script src="embed-amd.js" data-jupyter-widgets-cdn="/no-cdn/"></script>
{_script(WIDGET_STATE, state)}
</head><body style="font-family: sans-serif; margin: 16px; max-width: 1000px">
{outputs}
</body></html>
""",
        encoding="utf-8",
    )
    return site


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve `site` on 127.0.0.1; yields its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]


def notebook_widgets(nb: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The widget state nbclient saved and every widget view among the cells' outputs, in order."""
    state = nb.metadata.widgets[WIDGET_STATE]
    views = [
        o.data[WIDGET_VIEW]
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if o.output_type in ("display_data", "execute_result") and WIDGET_VIEW in o.data
    ]
    return state, views


@contextmanager
def widget_page(site: Path) -> Iterator[tuple[Any, list[str], list[str]]]:
    """(the page in headless Chromium, its errors and console errors, requests that tried to leave
    127.0.0.1), the page loaded and its widgets drawn."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: `sudo apt-get install -y --no-install-recommends chromium`"
    )
    with serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            errors: list[str] = []
            outside: list[str] = []
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))

            def only_local(route: Any) -> None:
                if route.request.url.startswith(base):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_local)
            page.goto(base + "index.html")
            page.wait_for_load_state("networkidle")
            yield page, errors, outside
        finally:
            browser.close()

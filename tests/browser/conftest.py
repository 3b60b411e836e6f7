"""Browser tests: a real JupyterLab server, driven by headless Chromium through Playwright's sync API.

Fixtures for every browser test in this folder:
- `lab_server` (package): one `jupyter lab` child process with jupyter-mlops, see `lab_process.py`.
- `browser` (package): headless Chromium from `/usr/bin/chromium` (Debian's `chromium` package).
- `page` (per test): a fresh browser context with JupyterLab loaded in its own workspace.
Both are package-scoped, not session-scoped: Playwright's sync API keeps an asyncio loop running
while it is open, which breaks pytest-jupyter's tests (tests/server) that run after this folder.
When a test fails, `tests/browser/artifacts/` gets its screenshot, the browser console and the
server log's tail.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .lab_process import LabServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"

# Upper bounds on waiting for the UI on a busy 2-core machine, not speed expectations.
UI_WAIT_MS = 60_000
expect.set_options(timeout=UI_WAIT_MS)

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.fixture
def jp_asyncio_loop() -> None:
    """Replaces pytest-jupyter's autouse loop fixture: Playwright's sync API needs no asyncio loop."""


@pytest.fixture
def jp_server_cleanup() -> None:
    """Replaces pytest-jupyter's autouse cleanup fixture: our server is a separate process."""


@pytest.fixture(scope="package")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `sudo apt-get install -y chromium` "
            "(bash scripts/test.sh does this)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, so the `page` fixture knows whether it failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Browser, lab_server: LabServer) -> Iterator[Page]:
    """JupyterLab, loaded and ready, in a fresh browser context and workspace."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(UI_WAIT_MS)
    lab = context.new_page()
    console: list[str] = []
    lab.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    lab.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    try:
        lab.goto(lab_server.lab_url(workspace=name))
        wait_for_jupyterlab(lab)
        yield lab
    except BaseException:
        _save_artifacts(name, lab, console, lab_server)
        raise
    else:
        reports = request.node.stash.get(_REPORTS, {})
        if any(report.failed for report in reports.values()):
            _save_artifacts(name, lab, console, lab_server)
    finally:
        context.close()


def wait_for_jupyterlab(lab: Page) -> None:
    """JupyterLab is usable once its splash screen is gone and the shell is laid out."""
    lab.locator("#jupyterlab-splash").wait_for(state="detached")
    expect(lab.locator("#main.jp-LabShell")).to_be_visible()


def _save_artifacts(name: str, lab: Page, console: list[str], server: LabServer) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        lab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    except Exception as error:  # the page may be gone; the logs still help
        console.append(f"(screenshot failed: {error})")
    (ARTIFACTS / f"{name}.console.txt").write_text("\n".join(console))
    (ARTIFACTS / f"{name}.server.log").write_text(server.log_tail(400))

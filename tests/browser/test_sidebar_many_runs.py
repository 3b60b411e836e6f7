"""A store with 10,000 runs: the sidebar keeps only the rows in view in the page and still reaches the
oldest run at the bottom of the list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from bench.bench_store import fill_ours

from .conftest import wait_for_jupyterlab
from .lab_process import LabServer

RUNS = 10_000


@pytest.fixture
def crowded_lab(tmp_path: Path) -> Iterator[LabServer]:
    server = LabServer(tmp_path)
    server.mlops_home.mkdir(parents=True)
    fill_ours(server.mlops_home, RUNS)  # run-0 is the oldest, run-9999 the newest
    server.start()
    yield server
    server.stop()


def test_ten_thousand_runs_scroll_as_a_window(browser: Browser, crowded_lab: LabServer) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(crowded_lab.lab_url(workspace="crowded"))
        wait_for_jupyterlab(page)
        page.locator('.jp-SideBar li[data-id="jupyter-mlops:sidebar"]').click()
        runs = page.locator(".jp-mlops-runlist .jp-mlops-run")
        expect(runs.first).to_contain_text("run-9999")  # newest first

        page.locator(".jp-mlops-runlist").evaluate("list => { list.scrollTop = list.scrollHeight; }")

        oldest = page.locator(".jp-mlops-run-name").get_by_text("run-0", exact=True)
        expect(oldest).to_be_visible()
        expect(page.locator(".jp-mlops-run-name").get_by_text("run-9999", exact=True)).to_have_count(0)
        assert runs.count() < 100, f"{runs.count()} rows in the page for {RUNS} runs: not windowed"

        # Two runs side by side: their parameters and metrics in one table.
        for name in ("run-0", "run-1"):
            row = page.locator(".jp-mlops-run", has=page.get_by_text(name, exact=True))
            row.locator("input[type=checkbox]").check()
        page.locator(".jp-mlops-compare-button").click()
        table = page.locator(".jp-mlops-compare:visible table")
        expect(table.locator("thead td")).to_have_count(3)
        expect(table.locator("tr", has_text="param i")).to_contain_text("0")
        expect(table.locator("tr", has_text="param i")).to_contain_text("1")
        expect(table.locator("tr", has_text="metric train.loss")).to_contain_text("0.5")
    finally:
        context.close()

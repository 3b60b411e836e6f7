"""JupyterLab opens with jupyter-mlops installed, and its Pipelines sidebar talks to the server."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .lab_process import LabServer


def test_pipelines_sidebar_shows_the_backend_the_server_reports(page: Page, lab_server: LabServer) -> None:
    reported = lab_server.api("mlops/api/status")

    tab = page.locator('.jp-SideBar li[data-id="jupyter-mlops:sidebar"]')
    expect(tab).to_have_attribute("title", "Pipelines")
    tab.click()

    sidebar = page.locator("#jupyter-mlops\\:sidebar.jp-mlops-sidebar")
    expect(sidebar).to_be_visible()
    expect(sidebar.locator("h2")).to_have_text("Pipelines")
    status = sidebar.locator(".jp-mlops-status")
    expect(status).to_have_attribute("data-reachable", "true")
    expect(status.locator(".jp-mlops-backend")).to_have_text(reported["backend"])
    expect(status.locator(".jp-mlops-state")).to_have_text("reachable")
    expect(status.locator(".jp-mlops-light")).to_be_visible()

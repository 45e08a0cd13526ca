"""Browser fixtures: Debian's Chromium through Playwright, and the market it looks at.

`market` runs the real backend (`em backend`) and the orderbook as processes on real
PostgreSQL and NATS; `page` is a fresh browser context (empty sessionStorage) on the UI.
Screenshots go to $EM_UI_SCREENSHOTS when set (to look at them), else to a temp folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, expect, sync_playwright

from tests.support import prereq
from tests.support.ui_stack import Market, running_market

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1360, "height": 900}


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is open, which would break every asyncio test collected after the browser tests.
@pytest.fixture(scope="module")
def playwright_session() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        prereq.missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    chromium = playwright_session.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def market(database_url: str, nats_url: str, tmp_path: Path) -> Iterator[Market]:
    with running_market(database_url, nats_url, tmp_path / "logs") as running:
        yield running


@pytest.fixture
def page(browser: Browser, market: Market) -> Iterator[Page]:
    context = browser.new_context(base_url=market.base_url, viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("EM_UI_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


expect.set_options(timeout=15_000)

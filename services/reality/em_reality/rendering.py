"""Pages that need JavaScript, rendered by Debian's Chromium through Playwright.

One browser is started on first use and kept; one page is rendered at a time (a semaphore),
since a headless Chromium on a two-core box is the most expensive thing this engine does.
Images, fonts and media are not loaded: only the text matters here.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import TracebackType
from typing import Self

from playwright.async_api import Browser, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError

from em_reality import errors

logger = logging.getLogger(__name__)

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
_SKIPPED = frozenset({"image", "font", "media"})


class Renderer:
    """`async with Renderer(path) as r: html = await r.render(url)`."""

    def __init__(
        self, executable: Path = Path("/usr/bin/chromium"), *, user_agent: str, timeout: float = 30
    ) -> None:
        self._executable = executable
        self._user_agent = user_agent
        self._timeout_ms = timeout * 1000
        self._one_page = asyncio.Semaphore(1)
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.pages_rendered = 0

    @property
    def available(self) -> bool:
        return self._executable.is_file()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _ensure_browser(self) -> Browser:
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        if not self.available:
            raise errors.RenderError(f"Chromium not found at {self._executable}")
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=str(self._executable), args=list(CHROMIUM_ARGS), headless=True
            )
        except PlaywrightError as exc:
            raise errors.RenderError(f"Chromium did not start: {exc.message}") from exc
        return self._browser

    async def render(self, url: str) -> str:
        """The page's HTML after its scripts ran (network idle, or the timeout)."""
        async with self._one_page:
            browser = await self._ensure_browser()
            context = await browser.new_context(user_agent=self._user_agent)
            try:
                page = await context.new_page()
                await page.route("**/*", _skip_heavy)
                await page.goto(url, wait_until="networkidle", timeout=self._timeout_ms)
                content = await page.content()
            except PlaywrightError as exc:
                raise errors.RenderError(f"{url}: {exc.message}") from exc
            finally:
                await context.close()
            self.pages_rendered += 1
            return content

    async def close(self) -> None:
        if self._browser is not None:
            try:
                await self._browser.close()
            except PlaywrightError:
                logger.debug("browser already gone")
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None


async def _skip_heavy(route: Route) -> None:
    if route.request.resource_type in _SKIPPED:
        await route.abort()
    else:
        await route.continue_()

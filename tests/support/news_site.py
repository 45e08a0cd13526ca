"""A local news site for the crawler's tests: fixture pages, robots.txt, scripted failures.

Serves files from tests/fixtures/reality/ (with `{base}` replaced by the site's own URL),
answers conditional GETs with 304, can be told to fail a path a few times first (429 with
Retry-After, 503), and logs every request with its arrival time so tests can measure the
crawl delay.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest
from aiohttp import web

from tests.support import aiohttp_serving

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reality"
TYPES = {".xml": "application/rss+xml", ".html": "text/html; charset=utf-8"}


@dataclass(frozen=True)
class Hit:
    at: float
    path: str
    status: int
    headers: dict[str, str]


@dataclass
class NewsSite:
    host: str = "127.0.0.1"
    robots: str | None = "User-agent: *\nDisallow: /private/\n"
    log: list[Hit] = field(default_factory=list)
    _pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    _scripts: dict[str, deque[tuple[int, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def serve(self, path: str, body: str | bytes, content_type: str = "text/html") -> None:
        data = body.encode() if isinstance(body, str) else body
        self._pages[path] = (content_type, data)

    def serve_fixture(self, path: str, name: str) -> None:
        text = (FIXTURES / name).read_text(encoding="utf-8").replace("{base}", self.base)
        self.serve(path, text, TYPES.get(Path(name).suffix, "text/plain"))

    def fail(self, path: str, status: int, times: int = 1, **headers: str) -> None:
        """Answer `path` with `status` (and headers) `times` times before serving it."""
        for _ in range(times):
            self._scripts[path].append(
                (status, {k.replace("_", "-"): v for k, v in headers.items()})
            )

    def hits(self, path: str | None = None) -> list[Hit]:
        return [hit for hit in self.log if path is None or hit.path == path]

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner, self.port = await aiohttp_serving.start(app, self.host)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        response = self._respond(request)
        self.log.append(Hit(time.monotonic(), request.path, response.status, dict(request.headers)))
        return response

    def _respond(self, request: web.Request) -> web.Response:
        path = request.path
        if path == "/robots.txt":
            if self.robots is None:
                return web.Response(status=404)
            return web.Response(text=self.robots, content_type="text/plain")
        script = self._scripts.get(path)
        if script:
            status, headers = script.popleft()
            return web.Response(status=status, headers=headers, text="scripted failure")
        page = self._pages.get(path)
        if page is None:
            return web.Response(status=404, text="not found")
        content_type, body = page
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": content_type})


@pytest.fixture
async def news_site() -> AsyncIterator[NewsSite]:
    async with NewsSite() as site:
        yield site

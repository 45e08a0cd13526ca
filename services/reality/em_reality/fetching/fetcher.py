"""GET through the polite queues: robots first, conditional headers, bounded retries.

Retried: network errors, timeouts, 5xx and 429, at most `max_retries` times, waiting
Retry-After when the server gives one and an exponential backoff otherwise. A server asking
for more than `max_wait` seconds is left alone until the next cycle rather than holding the
cycle up. 403 and other 4xx are final: asking again would not be polite.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from em_reality import errors
from em_reality.fetching import domains, results, robots

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 5 * 1024 * 1024


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Fetcher:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        user_agent: str,
        counters: results.Counters | None = None,
        max_retries: int = 3,
        backoff_base: float = 1.0,
        max_wait: float = 120.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._client = client
        self._user_agent = user_agent
        self.counters = counters or results.Counters()
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._max_wait = max_wait
        self._max_bytes = max_bytes
        self.queues = domains.DomainQueues()
        self.robots = robots.RobotsCache(self._fetch_robots, user_agent)
        self._validators: dict[str, tuple[str | None, str | None]] = {}

    @asynccontextmanager
    async def permit(self, url: str, *, delay: float) -> AsyncIterator[None]:
        """Robots check and the origin's turn, for requests made by someone else (Chromium)."""
        delay = await self._allowed_delay(url, delay)
        async with self.queues.slot(url, delay):
            self.counters.requests += 1
            yield

    async def _allowed_delay(self, url: str, delay: float) -> float:
        verdict = await self.robots.check(url)
        if not verdict.allowed:
            self.counters.robots_blocked += 1
            raise errors.RobotsDisallowed(f"robots.txt disallows {url}")
        return max(delay, verdict.crawl_delay or 0.0)

    async def get(self, url: str, *, delay: float, conditional: bool = False) -> results.Response:
        """Fetch `url` politely; raise RobotsDisallowed or FetchError when it cannot be had.

        With `conditional`, the ETag/Last-Modified seen last time are sent and a 304 comes
        back as a Response whose `not_modified` is true.
        """
        delay = await self._allowed_delay(url, delay)
        headers: dict[str, str] = {}
        if conditional and url in self._validators:
            etag, modified = self._validators[url]
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        for attempt in range(self._max_retries + 1):
            last = attempt == self._max_retries
            try:
                async with self.queues.slot(url, delay):
                    response = await self._send(url, headers)
            except httpx.HTTPError as exc:
                self.counters.errors += 1
                if last:
                    raise errors.FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
                self._back_off(url, self._backoff(attempt))
                continue
            status = response.status
            self.counters.count_status(status)
            if status == 429 or status >= 500:
                wait = retry_after_seconds(response.headers.get("retry-after"))
                wait = self._backoff(attempt) if wait is None else wait
                if last or wait > self._max_wait:
                    raise errors.FetchError(f"{url}: HTTP {status} (retry in {wait:.0f}s)", status)
                logger.info("backing off", extra={"url": url, "status": status, "wait_s": wait})
                self._back_off(url, wait)
                continue
            if status == 304:
                return response
            if 200 <= status < 300:
                etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
                if etag or modified:
                    self._validators[url] = (etag, modified)
                return response
            raise errors.FetchError(f"{url}: HTTP {status}", status)
        raise AssertionError("unreachable")  # pragma: no cover

    def _back_off(self, url: str, seconds: float) -> None:
        self.counters.retries += 1
        self.queues.defer(url, seconds)

    def _backoff(self, attempt: int) -> float:
        base: float = self._backoff_base * (2**attempt)
        return base + random.uniform(0, self._backoff_base / 2)

    async def _send(self, url: str, headers: dict[str, str]) -> results.Response:
        self.counters.requests += 1
        all_headers = {"User-Agent": self._user_agent, **headers}
        async with self._client.stream("GET", url, headers=all_headers) as raw:
            chunks: list[bytes] = []
            size = 0
            async for chunk in raw.aiter_bytes():
                size += len(chunk)
                if size > self._max_bytes:
                    break
                chunks.append(chunk)
            return results.Response(
                url=str(raw.url),
                status=raw.status_code,
                body=b"".join(chunks),
                headers={key.lower(): value for key, value in raw.headers.items()},
            )

    async def _fetch_robots(self, url: str) -> tuple[int, str]:
        self.counters.robots_fetched += 1
        try:
            async with self.queues.slot(url, 0.0):
                response = await self._send(url, {})
        except httpx.HTTPError as exc:
            self.counters.errors += 1
            logger.warning("robots.txt fetch failed", extra={"url": url, "error": repr(exc)})
            return 0, ""
        return response.status, response.text()

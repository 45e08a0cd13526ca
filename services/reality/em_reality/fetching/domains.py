"""One polite queue per origin: requests to a site go one at a time, spaced by its delay.

Each origin has a FIFO lock (asyncio.Lock wakes waiters in order) and the time its last
request finished; a request waits until `delay` seconds after that. Counting from the end
of the previous request keeps the gap even when a slow server stretches each request. A 429
or 503 with Retry-After pushes the origin's next slot out, so every request to that site,
not only the one retried, waits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme)
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}"


@dataclass(slots=True)
class _Origin:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_done: float | None = None
    not_before: float = 0.0


class DomainQueues:
    def __init__(self) -> None:
        self._origins: dict[str, _Origin] = {}

    def _get(self, origin: str) -> _Origin:
        state = self._origins.get(origin)
        if state is None:
            state = self._origins[origin] = _Origin()
        return state

    @asynccontextmanager
    async def slot(self, url: str, delay: float) -> AsyncIterator[None]:
        """Hold the origin's turn for one request, after waiting out its delay."""
        state = self._get(origin_of(url))
        async with state.lock:
            ready = state.not_before
            if state.last_done is not None:
                ready = max(ready, state.last_done + delay)
            wait = ready - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                state.last_done = time.monotonic()

    def defer(self, url: str, seconds: float) -> None:
        """Keep every request to this origin away for `seconds` (Retry-After, backoff)."""
        state = self._get(origin_of(url))
        state.not_before = max(state.not_before, time.monotonic() + seconds)

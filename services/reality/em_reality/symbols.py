"""The symbol list, read from the backend's public API every cycle.

`GET {BACKEND_URL}/api/v1/stocks` returns the listed stocks and indexes. When the backend
is unreachable the last list read stands, so a backend restart does not blind the engine;
only before any list was ever read is there nothing to match against.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx

from em_reality import errors, pipeline

logger = logging.getLogger(__name__)

PATH = "/api/v1/stocks"


def parse(document: Any) -> list[pipeline.SymbolInfo]:
    """Symbols from the API's JSON (a list, or an object holding one under items/stocks)."""
    if isinstance(document, dict):
        document = document.get("items", document.get("stocks", document.get("data")))
    if not isinstance(document, list):
        raise errors.SymbolsUnavailable("the stock list is not a JSON list")
    result: list[pipeline.SymbolInfo] = []
    for item in document:
        if not isinstance(item, dict) or not isinstance(item.get("symbol"), str):
            continue
        aliases = item.get("aliases") or []
        result.append(
            pipeline.SymbolInfo(
                symbol=item["symbol"].strip().upper(),
                name=str(item.get("name") or item["symbol"]),
                aliases=tuple(str(a) for a in aliases if isinstance(a, str) and a.strip()),
                kind=str(item.get("kind") or "stock"),
            )
        )
    return result


class SymbolSource:
    def __init__(self, client: httpx.AsyncClient, backend_url: str) -> None:
        self._client = client
        self._url = backend_url.rstrip("/") + PATH
        self.last: list[pipeline.SymbolInfo] = []
        self.failures = 0

    async def refresh(self) -> Sequence[pipeline.SymbolInfo]:
        """The current list, or the last one when the backend cannot be read."""
        try:
            response = await self._client.get(self._url, timeout=10)
            response.raise_for_status()
            self.last = parse(response.json())
        except (httpx.HTTPError, ValueError, errors.SymbolsUnavailable) as exc:
            self.failures += 1
            if not self.last:
                raise errors.SymbolsUnavailable(f"no symbol list from {self._url}: {exc}") from exc
            logger.warning("symbol list stale", extra={"url": self._url, "error": str(exc)})
        return self.last

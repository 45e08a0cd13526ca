"""robots.txt per origin, fetched once and cached (RFC 9309 semantics).

- 2xx: the rules apply, and their Crawl-delay (when larger) replaces the source's.
- 4xx: no rules exist, everything is allowed.
- 5xx or unreachable: everything is disallowed until a retry a few minutes later; a site
  whose robots.txt is failing is not a site to hit harder.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.robotparser import RobotFileParser

from em_reality.fetching import domains

logger = logging.getLogger(__name__)

RULES_TTL_SECONDS = 24 * 3600.0
FAILURE_TTL_SECONDS = 300.0
MAX_ROBOTS_BYTES = 500 * 1024

# fetch(url) -> (status, text); status 0 means the request failed outright.
RawFetch = Callable[[str], Awaitable[tuple[int, str]]]


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    crawl_delay: float | None = None


@dataclass(slots=True)
class _Entry:
    parser: RobotFileParser | None  # None: allow all
    disallow_all: bool
    expires: float


class RobotsCache:
    def __init__(self, fetch: RawFetch, user_agent: str) -> None:
        self._fetch = fetch
        self._agent = user_agent.split("/", 1)[0].strip() or user_agent
        self._user_agent = user_agent
        self._entries: dict[str, _Entry] = {}

    async def check(self, url: str) -> Verdict:
        entry = await self._entry(domains.origin_of(url))
        if entry.disallow_all:
            return Verdict(allowed=False)
        if entry.parser is None:
            return Verdict(allowed=True)
        allowed = entry.parser.can_fetch(self._user_agent, url)
        delay = entry.parser.crawl_delay(self._agent)
        return Verdict(allowed=allowed, crawl_delay=float(delay) if delay is not None else None)

    async def _entry(self, origin: str) -> _Entry:
        entry = self._entries.get(origin)
        now = time.monotonic()
        if entry is not None and entry.expires > now:
            return entry
        status, text = await self._fetch(f"{origin}/robots.txt")
        if 200 <= status < 300:
            parser = RobotFileParser()
            parser.parse(text[:MAX_ROBOTS_BYTES].splitlines())
            entry = _Entry(parser, disallow_all=False, expires=now + RULES_TTL_SECONDS)
        elif 400 <= status < 500:
            entry = _Entry(None, disallow_all=False, expires=now + RULES_TTL_SECONDS)
        else:
            logger.warning("robots.txt unavailable", extra={"origin": origin, "status": status})
            entry = _Entry(None, disallow_all=True, expires=now + FAILURE_TTL_SECONDS)
        self._entries[origin] = entry
        return entry

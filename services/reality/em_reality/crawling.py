"""One crawl of every enabled source: feeds and pages in, new extracted articles out.

Sources are crawled concurrently; requests to one site still go one at a time through the
fetcher's queues. A feed entry already in the seen-set is skipped before its page is
fetched, so a re-scrape costs one conditional GET per feed. Pages that trafilatura cannot
read (or sources marked `js`) are rendered in Chromium.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from em_reality import errors, extracting, rendering, sources
from em_reality.fetching import fetcher

logger = logging.getLogger(__name__)

# Given candidate keys, return those already seen.
SeenFilter = Callable[[Collection[str]], Awaitable[set[str]]]


def url_key(url: str) -> str:
    """The seen-set key of an article URL (scheme, case of the host and fragment ignored)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    netloc = f"{host}:{parts.port}" if parts.port else host
    normal = urlunsplit(("", netloc, parts.path.rstrip("/") or "/", parts.query, ""))
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def page_key(url: str, body: str) -> str:
    """A page-only source is one article per distinct text it shows."""
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return hashlib.sha256(f"{url_key(url)}:{digest}".encode()).hexdigest()


@dataclass(slots=True)
class CrawlReport:
    articles: list[extracting.ExtractedArticle] = field(default_factory=list)
    fetched: int = 0
    extracted: int = 0
    skipped_seen: int = 0
    dropped: collections.Counter[str] = field(default_factory=collections.Counter)
    # Keys read to the end (kept or dropped by the prefilter): marked seen with the cycle's
    # events. Fetch failures are not here, so they are tried again next cycle.
    done_keys: dict[str, str] = field(default_factory=dict)  # key -> source id

    def merge(self, other: CrawlReport) -> None:
        self.articles.extend(other.articles)
        self.fetched += other.fetched
        self.extracted += other.extracted
        self.skipped_seen += other.skipped_seen
        self.dropped.update(other.dropped)
        self.done_keys.update(other.done_keys)


@dataclass(frozen=True, slots=True)
class CrawlPolicy:
    languages: frozenset[str] = frozenset({"en"})
    min_chars: int = 300


class Crawler:
    def __init__(
        self,
        http: fetcher.Fetcher,
        renderer: rendering.Renderer | None,
        policy: CrawlPolicy,
        seen: SeenFilter,
    ) -> None:
        self._http = http
        self._renderer = renderer
        self._policy = policy
        self._seen = seen

    async def crawl(self, all_sources: Sequence[sources.Source]) -> CrawlReport:
        reports = await asyncio.gather(*(self._crawl_one(s) for s in sources.enabled(all_sources)))
        total = CrawlReport()
        for report in reports:
            total.merge(report)
        return total

    async def _crawl_one(self, source: sources.Source) -> CrawlReport:
        report = CrawlReport()
        try:
            if source.feed_url is not None:
                await self._crawl_feed(source, source.feed_url, report)
            else:
                await self._crawl_page(source, source.entry_url, report)
        except errors.RobotsDisallowed:
            report.dropped["robots"] += 1
        except (errors.FetchError, errors.ExtractionError) as exc:
            report.dropped["fetch_failed"] += 1
            logger.warning("source failed", extra={"source": source.id, "error": str(exc)})
        return report

    async def _crawl_feed(self, source: sources.Source, url: str, report: CrawlReport) -> None:
        response = await self._http.get(url, delay=source.crawl_delay, conditional=True)
        report.fetched += 1
        if response.not_modified:
            return
        entries = extracting.parse_feed(response.body, url)[: source.max_items]
        keys = {url_key(entry.url): entry for entry in entries}
        seen = await self._seen(list(keys))
        report.skipped_seen += len(seen)
        for key, entry in keys.items():
            if key in seen:
                continue
            try:
                article = await self._read_entry(source, entry, key, report)
            except errors.RobotsDisallowed:
                report.dropped["robots"] += 1
                continue
            except (errors.FetchError, errors.ExtractionError) as exc:
                report.dropped["fetch_failed"] += 1
                logger.info("article skipped", extra={"url": entry.url, "error": str(exc)})
                continue
            report.done_keys[key] = source.id
            self._keep(article, report)

    async def _read_entry(
        self,
        source: sources.Source,
        entry: extracting.FeedEntry,
        key: str,
        report: CrawlReport,
    ) -> extracting.ExtractedArticle | None:
        if source.kind == "rss" and len(entry.text) >= self._policy.min_chars:
            report.extracted += 1
            return self._article(source, key, entry.url, entry.title, entry.text,
                                 entry.published_at, entry.language, "feed")  # fmt: skip
        page, via = await self._read_page(source, entry.url, report)
        if page is None:
            report.dropped["no_text"] += 1
            return None
        return self._article(
            source, key, entry.url, page.title or entry.title, page.body,
            entry.published_at or page.published_at, page.language or entry.language, via,
        )  # fmt: skip

    async def _crawl_page(self, source: sources.Source, url: str, report: CrawlReport) -> None:
        page, via = await self._read_page(source, url, report, conditional=True)
        if page is None:
            return
        key = page_key(url, page.body)
        if await self._seen([key]):
            report.skipped_seen += 1
            return
        report.done_keys[key] = source.id
        self._keep(
            self._article(source, key, url, page.title, page.body, page.published_at,
                          page.language, via),
            report,
        )  # fmt: skip

    async def _read_page(
        self, source: sources.Source, url: str, report: CrawlReport, *, conditional: bool = False
    ) -> tuple[extracting.PageText | None, extracting.Via]:
        """Fetch and extract; render in Chromium for `js` sources or when nothing came out."""
        if source.kind != "js":
            response = await self._http.get(url, delay=source.crawl_delay, conditional=conditional)
            report.fetched += 1
            if response.not_modified:
                return None, "html"
            html = response.text()
            page = extracting.extract_page(html, response.url)
            if self._renderer is None or not self._needs_browser(page, html):
                report.extracted += page is not None
                return page, "html"
        if self._renderer is None:
            raise errors.RenderError(f"{url}: needs Chromium, which is not configured")
        async with self._http.permit(url, delay=source.crawl_delay):
            html = await self._renderer.render(url)
        report.fetched += 1
        page = extracting.extract_page(html, url)
        report.extracted += page is not None
        return page, "js"

    def _needs_browser(self, page: extracting.PageText | None, html: str) -> bool:
        """Nothing (or too little) came out of a page that runs scripts: render it."""
        if page is not None and len(page.body) >= self._policy.min_chars:
            return False
        return "<script" in html.lower()

    def _article(
        self,
        source: sources.Source,
        key: str,
        url: str,
        title: str,
        body: str,
        published_at: datetime | None,
        language: str | None,
        via: extracting.Via,
    ) -> extracting.ExtractedArticle:
        now = datetime.now(UTC)
        when = min(published_at, now) if published_at is not None else now
        return extracting.ExtractedArticle(
            key=key, url=url, title=title, body=body, published_at=when, source_id=source.id,
            source_trust=source.trust, language=language or source.language, via=via,
        )  # fmt: skip

    def _keep(self, article: extracting.ExtractedArticle | None, report: CrawlReport) -> None:
        if article is None:
            return
        reason = extracting.rejection(
            article.title,
            article.body,
            article.language,
            languages=sorted(self._policy.languages),
            min_chars=self._policy.min_chars,
        )
        if reason is not None:
            report.dropped[reason] += 1
            return
        report.articles.append(article)

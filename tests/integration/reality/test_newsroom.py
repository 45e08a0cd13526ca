"""The demo newsroom serves what the engine reads: a feed, article pages, a JS-only page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from em_reality import crawling, rendering, sources
from em_reality.fetching import fetcher
from em_reality.newsroom import server
from tests.support import prereq

REPO = Path(__file__).resolve().parents[3]


@dataclass
class Running:
    newsroom: server.Newsroom
    base: str


@pytest.fixture
async def newsroom() -> AsyncIterator[Running]:
    room = server.Newsroom(server.load_corpus(), initial=3)
    runner = web.AppRunner(server.create_app(room))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Running(room, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


async def test_feed_grows_and_answers_conditional_gets(newsroom: Running) -> None:
    async with httpx.AsyncClient(base_url=newsroom.base) as client:
        first = await client.get("/feed.xml")
        assert first.status_code == 200 and first.text.count("<item>") == 3
        assert server.BANNER in first.text
        etag = first.headers["etag"]
        unchanged = await client.get("/feed.xml", headers={"If-None-Match": etag})
        assert unchanged.status_code == 304

        newsroom.newsroom.publish_next()
        grown = await client.get("/feed.xml", headers={"If-None-Match": etag})
        assert grown.status_code == 200 and grown.text.count("<item>") == 4

        slug = newsroom.newsroom.feed[0].slug
        page = await client.get(f"/articles/{slug}.html")
        assert page.status_code == 200 and server.BANNER in page.text
        assert (await client.get("/articles/nope.html")).status_code == 404
        assert "Disallow: /private/" in (await client.get("/robots.txt")).text


def _demo_sources(base: str) -> list[sources.Source]:
    demo = REPO / "services/reality/demo_sources.yaml"
    return sources.load(demo, variables={"NEWSROOM_URL": base})


@pytest.mark.browser
async def test_engine_reads_the_newsroom_feed_and_its_js_page(newsroom: Running) -> None:
    while newsroom.newsroom.live is None:  # publish until a live story is up
        newsroom.newsroom.publish_next()
    agent = "EverythingMarketBot/0.1 (+test)"
    async with (
        httpx.AsyncClient(timeout=10) as client,
        rendering.Renderer(user_agent=agent, timeout=20) as renderer,
    ):
        if not renderer.available:
            prereq.missing("Chromium is not installed at /usr/bin/chromium")

        async def nothing_seen(keys: object) -> set[str]:
            return set()

        crawler = crawling.Crawler(
            fetcher.Fetcher(client, user_agent=agent),
            renderer,
            crawling.CrawlPolicy(languages=frozenset({"en"}), min_chars=300),
            nothing_seen,
        )
        report = await crawler.crawl(_demo_sources(newsroom.base))

    vias = sorted(article.via for article in report.articles)
    assert vias.count("html") == len(newsroom.newsroom.feed)
    assert vias.count("js") == 1
    live = next(a for a in report.articles if a.via == "js")
    assert newsroom.newsroom.live.story.paragraphs[0][:60] in live.body

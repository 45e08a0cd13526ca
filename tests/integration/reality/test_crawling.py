"""The crawler against a real local site: robots, delays, back-off, 304s, extraction."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest

from em_reality import crawling, errors, rendering, sources
from em_reality.fetching import fetcher
from tests.support import prereq
from tests.support.news_site import NewsSite

CHROMIUM = Path("/usr/bin/chromium")
AGENT = "EverythingMarketBot/0.1 (+test)"


class SeenSet:
    def __init__(self) -> None:
        self.keys: set[str] = set()

    async def __call__(self, keys: object) -> set[str]:
        assert isinstance(keys, list)
        return {key for key in keys if key in self.keys}


@pytest.fixture
async def http() -> AsyncIterator[fetcher.Fetcher]:
    async with httpx.AsyncClient(timeout=10, follow_redirects=True) as client:
        yield fetcher.Fetcher(client, user_agent=AGENT, backoff_base=0.05)


def _source(site: NewsSite, **fields: object) -> sources.Source:
    base: dict[str, object] = {
        "id": "fixture",
        "name": "Fixture Wire",
        "feed_url": site.url("/feed.xml"),
        "kind": "html",
        "trust": 0.8,
        "crawl_delay": 0,
    }
    return sources.Source.model_validate({**base, **fields})


def _serve_all(site: NewsSite) -> None:
    site.serve_fixture("/feed.xml", "feed.xml")
    site.serve_fixture("/articles/robot.html", "robot.html")
    site.serve_fixture("/articles/brief.html", "brief.html")
    site.serve_fixture("/private/memo.html", "memo.html")
    site.serve_fixture("/live.html", "live.html")
    site.serve_fixture("/fr.html", "french.html")


def _crawler(
    http: fetcher.Fetcher,
    seen: SeenSet | None = None,
    renderer: rendering.Renderer | None = None,
) -> crawling.Crawler:
    policy = crawling.CrawlPolicy(languages=frozenset({"en"}), min_chars=300)
    return crawling.Crawler(http, renderer, policy, seen or SeenSet())


def _gaps(times: Sequence[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def test_feed_article_through_trafilatura_short_and_disallowed_dropped(
    news_site: NewsSite, http: fetcher.Fetcher
) -> None:
    _serve_all(news_site)
    report = await _crawler(http).crawl([_source(news_site)])

    assert [a.url for a in report.articles] == [news_site.url("/articles/robot.html")]
    article = report.articles[0]
    assert article.via == "html"
    assert article.title == "Elon Musk unveils a humanoid robot for factory work"
    assert "humanoid robot" in article.body and "battery cells" in article.body
    assert "Copyright" not in article.body and "Markets" not in article.body.split("\n")[0]
    assert article.published_at.isoformat().startswith("2026-11-28T09:00")
    assert report.dropped["too_short"] == 1
    assert report.dropped["robots"] == 1
    assert news_site.hits("/private/memo.html") == []
    assert http.counters.robots_blocked == 1


async def test_crawl_delay_spaces_every_request_to_one_domain(
    news_site: NewsSite, http: fetcher.Fetcher
) -> None:
    _serve_all(news_site)
    await _crawler(http).crawl([_source(news_site, crawl_delay=0.4)])

    times = [hit.at for hit in news_site.log]
    assert len(times) >= 4  # robots, feed, two articles
    assert min(_gaps(times)) >= 0.4


async def test_robots_crawl_delay_overrides_a_shorter_source_delay(
    news_site: NewsSite, http: fetcher.Fetcher
) -> None:
    _serve_all(news_site)
    news_site.robots = "User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n"
    await _crawler(http).crawl([_source(news_site, crawl_delay=0)])

    gaps = _gaps([hit.at for hit in news_site.log if hit.path != "/robots.txt"])
    assert len(gaps) >= 2
    assert min(gaps) >= 1.0


async def test_429_with_retry_after_is_waited_out(
    news_site: NewsSite, http: fetcher.Fetcher
) -> None:
    _serve_all(news_site)
    news_site.fail("/feed.xml", 429, Retry_After="1")
    report = await _crawler(http).crawl([_source(news_site)])

    feed_hits = news_site.hits("/feed.xml")
    assert [hit.status for hit in feed_hits] == [429, 200]
    assert feed_hits[1].at - feed_hits[0].at >= 1.0
    assert http.counters.status_429 == 1
    assert http.counters.retries == 1
    assert len(report.articles) == 1


async def test_5xx_retried_with_backoff_then_given_up(
    news_site: NewsSite, http: fetcher.Fetcher
) -> None:
    _serve_all(news_site)
    news_site.fail("/feed.xml", 503, times=10)
    report = await _crawler(http).crawl([_source(news_site)])

    assert [hit.status for hit in news_site.hits("/feed.xml")] == [503] * 4  # 1 + 3 retries
    assert report.dropped["fetch_failed"] == 1
    assert http.counters.status_5xx == 4


async def test_403_is_counted_and_not_retried(news_site: NewsSite, http: fetcher.Fetcher) -> None:
    _serve_all(news_site)
    news_site.fail("/feed.xml", 403, times=5)
    await _crawler(http).crawl([_source(news_site)])

    assert len(news_site.hits("/feed.xml")) == 1
    assert http.counters.status_403 == 1


async def test_unchanged_feed_answers_304_and_yields_nothing(
    news_site: NewsSite, http: fetcher.Fetcher
) -> None:
    _serve_all(news_site)
    crawler = _crawler(http)
    first = await crawler.crawl([_source(news_site)])
    second = await crawler.crawl([_source(news_site)])

    feed_hits = news_site.hits("/feed.xml")
    assert [hit.status for hit in feed_hits] == [200, 304]
    assert "If-None-Match" in feed_hits[1].headers
    assert len(first.articles) == 1
    assert second.articles == [] and second.fetched == 1
    assert http.counters.not_modified == 1


async def test_seen_articles_are_not_fetched_again(
    news_site: NewsSite, http: fetcher.Fetcher
) -> None:
    _serve_all(news_site)
    seen = SeenSet()
    seen.keys.add(crawling.url_key(news_site.url("/articles/robot.html")))
    report = await _crawler(http, seen).crawl([_source(news_site)])

    assert news_site.hits("/articles/robot.html") == []
    assert report.articles == [] and report.skipped_seen == 1


async def test_other_languages_are_dropped(news_site: NewsSite, http: fetcher.Fetcher) -> None:
    _serve_all(news_site)
    source = _source(news_site, feed_url=None, page_url=news_site.url("/fr.html"))
    report = await _crawler(http).crawl([source])

    assert report.articles == []
    assert report.dropped["language"] == 1


@pytest.fixture
async def renderer() -> AsyncIterator[rendering.Renderer]:
    async with rendering.Renderer(CHROMIUM, user_agent=AGENT, timeout=20) as chromium:
        if not chromium.available:
            prereq.missing(f"Chromium is not installed at {CHROMIUM}")
        yield chromium


@pytest.mark.browser
async def test_js_page_is_rendered_in_chromium(
    news_site: NewsSite, http: fetcher.Fetcher, renderer: rendering.Renderer
) -> None:
    _serve_all(news_site)
    source = _source(news_site, kind="js", feed_url=None, page_url=news_site.url("/live.html"))
    report = await _crawler(http, renderer=renderer).crawl([source])

    assert len(report.articles) == 1
    article = report.articles[0]
    assert article.via == "js"
    assert "record demand" in article.body and "Loading the live story" not in article.body
    assert renderer.pages_rendered == 1
    assert [hit.status for hit in news_site.hits("/live.html")] == [200]


@pytest.mark.browser
async def test_html_page_without_text_falls_back_to_chromium(
    news_site: NewsSite, http: fetcher.Fetcher, renderer: rendering.Renderer
) -> None:
    _serve_all(news_site)
    source = _source(news_site, kind="html", feed_url=None, page_url=news_site.url("/live.html"))
    report = await _crawler(http, renderer=renderer).crawl([source])

    assert [a.via for a in report.articles] == ["js"]
    assert len(news_site.hits("/live.html")) == 2  # plain GET, then Chromium


async def test_sources_file_format_errors_name_the_entry(tmp_path: Path) -> None:
    file = tmp_path / "sources.yaml"
    file.write_text(
        "sources:\n  - id: ok\n    name: OK\n    feed_url: https://example.org/rss\n"
        "    trust: 0.5\n  - id: bad\n    name: Bad\n    kind: js\n    trust: 2\n"
    )
    with pytest.raises(errors.SourcesError, match=r"entry 2 \(id 'bad'\).*trust"):
        sources.load(file)

"""Fixtures for the Reality Engine's integration tests: a local news site serving demo-corpus
articles and a backend-style symbol list, settings pointing at it, and built runtimes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from em_reality import assembly
from em_reality.newsroom import server as newsroom
from em_reality.settings import RealitySettings
from tests.support.llm_standin import llm_standin  # noqa: F401 - fixtures, found by name
from tests.support.news_site import NewsSite, news_site  # noqa: F401

SECRET = "test-reality-secret"
SYMBOLS = [
    {"symbol": "ELON", "name": "Elon Musk", "aliases": ["Musk"], "kind": "stock"},
    {"symbol": "NRNC", "name": "Neuronic Labs", "aliases": ["Neuronic"], "kind": "stock"},
    {"symbol": "CRTX", "name": "Cortex Compute", "aliases": ["Cortex"], "kind": "stock"},
]
# Gate open (|quick| >= 0.45), gate open, gate closed — in publication order.
STORIES = ("neuronic-model-record", "cortex-supply-shortage", "musk-robot-factory-debut")

SettingsFactory = Callable[..., RealitySettings]
RuntimeFactory = Callable[..., assembly.Runtime]


def serve_demo(site: NewsSite, slugs: tuple[str, ...] = STORIES) -> list[str]:
    """Feed + article pages for corpus stories, and GET /api/v1/stocks; returns article URLs."""
    corpus = {story.slug: story for story in newsroom.load_corpus()}
    room = newsroom.Newsroom([corpus[slug] for slug in slugs], initial=0)
    start = datetime.now(UTC) - timedelta(minutes=len(slugs))
    for offset, slug in enumerate(slugs):
        item = newsroom.Published(corpus[slug], slug, start + timedelta(minutes=offset))
        room.feed.insert(0, item)
        site.serve(f"/articles/{slug}.html", newsroom.article_html(item))
    site.serve("/feed.xml", newsroom.feed_xml(room, site.base), "application/rss+xml")
    site.serve("/api/v1/stocks", json.dumps({"data": SYMBOLS, "count": 3}), "application/json")
    return [site.url(f"/articles/{slug}.html") for slug in slugs]


@pytest.fixture
def make_settings(tmp_path: Path, news_site: NewsSite) -> SettingsFactory:  # noqa: F811
    def factory(*, crawl_delay: float = 0, **overrides: Any) -> RealitySettings:
        sources_file = tmp_path / "sources.yaml"
        sources_file.write_text(
            "sources:\n"
            "  - id: demo\n    name: Demo\n"
            f"    feed_url: {news_site.url('/feed.xml')}\n"
            f"    kind: html\n    trust: 0.7\n    crawl_delay: {crawl_delay}\n",
            encoding="utf-8",
        )
        values: dict[str, Any] = {
            "em_env": "test",
            "reality_api_secret": SECRET,
            "backend_url": news_site.base,
            "sources_file": sources_file,
            "reality_port": 0,
            "reality_publish_timeout": 1.0,
            "llm_base_url": "",
            "llm_model": "",
        }
        return RealitySettings(**(values | overrides))

    return factory


@pytest.fixture
async def make_runtime() -> AsyncIterator[RuntimeFactory]:
    made: list[assembly.Runtime] = []

    def factory(settings: RealitySettings, *, dry_run: bool = False) -> assembly.Runtime:
        runtime = assembly.assemble(settings, dry_run=dry_run)
        made.append(runtime)
        return runtime

    yield factory
    for runtime in made:
        await runtime.aclose()

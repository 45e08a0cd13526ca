"""The demo newsroom's web server (aiohttp): `/feed.xml`, `/articles/<slug>.html`,
`/live.html` (text filled in by JavaScript from `/api/live.json`), `/robots.txt`, `/`.

A ticker publishes the next corpus article every `interval` seconds; live articles go to the
live page, the rest to the feed. When the corpus runs out it starts again with new slugs
(the engine will recognise the reruns as duplicates of the first run, as it should).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import html
import json
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from importlib import resources

from aiohttp import web
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from em_common import logs

logger = logging.getLogger(__name__)

BANNER = "DEMO CONTENT: a fictional article written for the Everything Market demo."
FEED_SIZE = 20


@dataclass(frozen=True, slots=True)
class Story:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    live: bool


@dataclass(frozen=True, slots=True)
class Published:
    story: Story
    slug: str
    at: datetime


def load_corpus() -> list[Story]:
    text = resources.files(__package__).joinpath("corpus.json").read_text(encoding="utf-8")
    return [
        Story(item["slug"], item["title"], tuple(item["paragraphs"]), bool(item.get("live")))
        for item in json.loads(text)["articles"]
    ]


class Newsroom:
    def __init__(self, corpus: Sequence[Story], *, initial: int = 3) -> None:
        if not corpus:
            raise ValueError("the newsroom needs at least one story")
        self._corpus = list(corpus)
        self._next = 0
        self.feed: list[Published] = []
        self.live: Published | None = None
        for _ in range(initial):
            self.publish_next()

    def publish_next(self) -> Published:
        story = self._corpus[self._next % len(self._corpus)]
        run = self._next // len(self._corpus)
        self._next += 1
        slug = story.slug if run == 0 else f"{story.slug}-r{run + 1}"
        item = Published(story, slug, datetime.now(UTC).replace(microsecond=0))
        if story.live:
            self.live = item
        else:
            self.feed.insert(0, item)
            del self.feed[FEED_SIZE * 5 :]
        logger.info("published", extra={"slug": slug, "live": story.live})
        return item

    def find(self, slug: str) -> Published | None:
        return next((item for item in self.feed if item.slug == slug), None)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)} | Demo Newsroom</title></head>\n<body>\n"
        f'<header><p><strong>{BANNER}</strong></p><nav><a href="/">Demo Newsroom</a></nav>'
        f"</header>\n{body}\n<footer><p>{BANNER}</p></footer>\n</body>\n</html>\n"
    )


def article_html(item: Published) -> str:
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in item.story.paragraphs)
    body = (
        f"<article><h1>{html.escape(item.story.title)}</h1>"
        f'<p><time datetime="{item.at.isoformat()}">{item.at:%d %b %Y %H:%M} UTC</time></p>'
        f"\n{paragraphs}\n</article>"
    )
    return _page(item.story.title, body)


def feed_xml(newsroom: Newsroom, base: str) -> str:
    items = []
    for item in newsroom.feed[:FEED_SIZE]:
        link = f"{base}/articles/{item.slug}.html"
        items.append(
            "<item>"
            f"<title>{html.escape(item.story.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="true">{link}</guid>'
            f"<pubDate>{format_datetime(item.at, usegmt=True)}</pubDate>"
            f"<description>{html.escape(item.story.paragraphs[0])}</description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>Demo Newsroom</title><link>{base}/</link>"
        f"<description>{BANNER}</description><language>en</language>"
        + "".join(items)
        + "</channel></rss>\n"
    )


LIVE_SHELL = _page(
    "Live",
    '<main id="live"><p>Loading the live story…</p></main>\n<script>\n'
    'fetch("/api/live.json").then((r) => r.json()).then((s) => {\n'
    '  const ps = s.paragraphs.map((p) => "<p>" + p.replace(/</g, "&lt;") + "</p>").join("");\n'
    '  document.getElementById("live").innerHTML = "<article><h1>" +\n'
    '    s.title.replace(/</g, "&lt;") + "</h1>" + ps + "</article>";\n'
    "  document.title = s.title;\n"
    "});\n</script>",
)


def create_app(newsroom: Newsroom) -> web.Application:
    def base(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    async def feed(request: web.Request) -> web.Response:
        body = feed_xml(newsroom, base(request)).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"}
        )

    async def article(request: web.Request) -> web.Response:
        item = newsroom.find(request.match_info["slug"])
        if item is None:
            raise web.HTTPNotFound(text="no such demo article")
        return web.Response(text=article_html(item), content_type="text/html")

    async def live_page(_: web.Request) -> web.Response:
        return web.Response(text=LIVE_SHELL, content_type="text/html")

    async def live_json(_: web.Request) -> web.Response:
        item = newsroom.live
        if item is None:
            return web.json_response({"title": "No live story yet", "paragraphs": []})
        return web.json_response(
            {"title": item.story.title, "paragraphs": list(item.story.paragraphs),
             "published_at": item.at.isoformat(), "notice": BANNER}
        )  # fmt: skip

    async def robots(_: web.Request) -> web.Response:
        return web.Response(text="User-agent: *\nDisallow: /private/\n")

    async def index(request: web.Request) -> web.Response:
        links = "".join(
            f'<li><a href="/articles/{i.slug}.html">{html.escape(i.story.title)}</a></li>'
            for i in newsroom.feed[:FEED_SIZE]
        )
        body = f'<h1>Demo Newsroom</h1><p><a href="/live.html">Live</a></p><ul>{links}</ul>'
        return web.Response(text=_page("Demo Newsroom", body), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/articles/{slug}.html", article)
    app.router.add_get("/live.html", live_page)
    app.router.add_get("/api/live.json", live_json)
    app.router.add_get("/robots.txt", robots)
    return app


async def tick(newsroom: Newsroom, interval: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        if not stop.is_set():
            newsroom.publish_next()


async def serve(host: str, port: int, interval: float, initial: int) -> None:
    newsroom = Newsroom(load_corpus(), initial=initial)
    runner = web.AppRunner(create_app(newsroom), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    logger.info("demo newsroom listening", extra={"url": f"http://{host}:{port}/"})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await tick(newsroom, interval, stop)
    finally:
        await runner.cleanup()


class NewsroomSettings(BaseSettings):
    """NEWSROOM_HOST, NEWSROOM_PORT, NEWSROOM_INTERVAL (command-line options win)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    newsroom_host: str = "127.0.0.1"
    newsroom_port: int = Field(8003, ge=0, le=65535)
    newsroom_interval: float = Field(8.0, gt=0)


def run_newsroom(argv: Sequence[str]) -> int:
    """`em reality newsroom [--host H] [--port P] [--interval S] [--initial N]`."""
    defaults = NewsroomSettings()
    parser = argparse.ArgumentParser(prog="em reality newsroom", description=BANNER)
    parser.add_argument("--host", default=defaults.newsroom_host)
    parser.add_argument("--port", type=int, default=defaults.newsroom_port)
    parser.add_argument(
        "--interval", type=float, default=defaults.newsroom_interval, help="seconds per article"
    )
    parser.add_argument("--initial", type=int, default=3, help="articles published at start")
    args = parser.parse_args(list(argv))
    logs.configure("INFO", service="newsroom")
    asyncio.run(serve(args.host, args.port, args.interval, args.initial))
    return 0

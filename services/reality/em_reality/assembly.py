"""Builds a running engine from settings: the one place that knows every concrete part."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import httpx
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from em_common import constants, db, errors
from em_reality import (
    crawling,
    engine,
    leadership,
    llm,
    metrics,
    outbox,
    publishing,
    rendering,
    sources,
    symbols,
    wiring,
)
from em_reality.fetching import fetcher
from em_reality.settings import RealitySettings

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: RealitySettings
    engine: engine.Engine
    registry: CollectorRegistry
    http_client: httpx.AsyncClient
    renderer: rendering.Renderer
    link: publishing.NatsLink | None = None
    database: AsyncEngine | None = None

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.renderer.close()
        await self.engine.llm.close()
        if self.engine.leader is not None:
            await self.engine.leader.release()
        if self.link is not None:
            await self.link.close()
        await self.http_client.aclose()
        if self.database is not None:
            await self.database.dispose()


def assemble(settings: RealitySettings, *, dry_run: bool = False) -> Runtime:
    """Wire the parts. Without `dry_run`, DATABASE_URL is required (outbox, seen-set, lock)."""
    source_list = sources.load(
        settings.sources_file, variables={"NEWSROOM_URL": settings.newsroom_url.rstrip("/")}
    )
    if not dry_run and not settings.database_url:
        raise errors.ConfigError("DATABASE_URL is required to run the Reality Engine loop")
    agent = settings.reality_user_agent
    client = httpx.AsyncClient(timeout=settings.reality_fetch_timeout, follow_redirects=True)
    http = fetcher.Fetcher(client, user_agent=agent)
    renderer = rendering.Renderer(settings.reality_chromium, user_agent=agent)
    policy = crawling.CrawlPolicy(
        languages=settings.languages, min_chars=settings.reality_min_chars
    )
    runner = llm.LlmRunner.create(
        settings.llm_base_url,
        settings.llm_model,
        settings.llm_api_key.get_secret_value(),
        settings.llm_calls_per_hour,
        settings.llm_timeout,
    )
    core = wiring.CorePipeline(
        wiring.constants_from(constants.get_domain(), settings.llm_calls_per_hour)
    )
    database = db.make_engine(settings.database_url) if settings.database_url else None
    store = outbox.OutboxStore(database) if database is not None else None
    link = relay = leader = None
    if not dry_run and store is not None:
        link = publishing.NatsLink(settings.nats_url)
        relay = publishing.OutboxRelay(store, publishing.Publisher(link, settings.signing_secret))
        leader = leadership.LeaderLock(settings.database_url)
    the_engine = engine.Engine(
        source_list=source_list,
        crawler_factory=lambda seen: crawling.Crawler(http, renderer, policy, seen),
        core=core,
        llm_runner=runner,
        symbol_source=symbols.SymbolSource(client, settings.backend_url),
        store=store,
        relay=relay,
        leader=leader,
        poll_interval=settings.poll_interval,
    )
    return Runtime(
        settings=settings,
        engine=the_engine,
        registry=metrics.registry_for(the_engine, http.counters),
        http_client=client,
        renderer=renderer,
        link=link,
        database=database,
    )

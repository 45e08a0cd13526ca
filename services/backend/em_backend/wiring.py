"""Assembling a running backend: its connections, consumers, background tasks and routers.

New features plug in here and nowhere else: a router in `routers()`, a handler for the
MARKET trades consumer in `market_trade_handlers()` (runs after the price recompute, for
every trade, and must be idempotent), a WebSocket authenticator on `Runtime.ws_account`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from decimal import Decimal

from fastapi import APIRouter

from em_backend import control as control_mod
from em_backend.api.routes import (
    admin_stocks,
    auth,
    feed,
    health,
    market,
    orders,
    portfolio,
    reality,
    review,
    status,
    stocks,
    updates,
)
from em_backend.domain import screening
from em_backend.ingest import consuming
from em_backend.ingest.pipeline import Ingestor
from em_backend.live import messages
from em_backend.live.fanout import Fanout
from em_backend.live.hub import Hub
from em_backend.market.orderbook import OrderbookClient
from em_backend.market.quotes import QuoteBook
from em_backend.metrics import Metrics
from em_backend.pricing import Pricing
from em_backend.review import Reviewer
from em_backend.runtime import Runtime
from em_backend.settings import Settings
from em_backend.streams import DurableConsumer, Handler
from em_backend.trading.service import Trading
from em_common import constants, contracts, db, messaging

logger = logging.getLogger(__name__)

REALITY_CONSUMER = "backend-reality"
MARKET_TRADES_CONSUMER = "backend-market-trades"


def routers() -> list[APIRouter]:
    return [
        health.router,
        status.router,
        stocks.router,
        admin_stocks.router,
        review.router,
        reality.router,
        feed.router,
        updates.router,
        auth.router,
        orders.router,
        portfolio.router,
        market.router,
    ]


def market_trade_handlers(runtime: Runtime) -> list[Handler]:
    """Handlers of `market.*.trades`, in order; settlement is appended here."""
    handlers = [consuming.trade_repricer(runtime.sessions, runtime.pricing, runtime.metrics)]
    if runtime.trading is not None:
        handlers.append(runtime.trading.settlement_handler())
    return handlers


def screening_rules() -> screening.Rules:
    domain = constants.get_domain()
    delta = Decimal(str(domain.suspicious_delta))
    return screening.Rules(
        suspicious_delta=delta,
        max_source_share=Decimal(str(domain.max_single_source_influence_24h)),
        share_floor=delta,
    )


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Runtime]:
    metrics = Metrics()
    engine = db.make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,
    )
    sessions = db.make_sessionmaker(engine)
    nc = await messaging.connect(settings.nats_url, name="em-backend")
    orderbook: OrderbookClient | None = None
    runtime: Runtime | None = None
    try:
        js = nc.jetstream()
        kv = await messaging.ensure_topology(js)
        hub = Hub(queue_size=settings.ws_queue_size, metrics=metrics)
        orderbook = OrderbookClient(
            settings.orderbook_addr,
            timeout_seconds=settings.orderbook_timeout_ms / 1000,
            failure_threshold=settings.orderbook_breaker_failures,
            reset_seconds=settings.orderbook_breaker_reset_seconds,
            metrics=metrics,
        )
        quotes = QuoteBook()
        fanout = Fanout(nc, hub, prefix=settings.live_subject_prefix)
        pricing = Pricing(orderbook, quotes, fanout)
        ingestor = Ingestor(
            settings=settings,
            sessions=sessions,
            pricing=pricing,
            metrics=metrics,
            rules=screening_rules(),
        )
        runtime = Runtime(
            settings=settings,
            metrics=metrics,
            engine=engine,
            sessions=sessions,
            control=control_mod.Control(
                forced_maintenance=settings.maintenance_mode,
                forced_message=settings.maintenance_message,
            ),
            hub=hub,
            quotes=quotes,
            orderbook=orderbook,
            nc=nc,
            js=js,
            kv=kv,
            fanout=fanout,
            pricing=pricing,
            ingestor=ingestor,
            reviewer=Reviewer(sessions=sessions, ingestor=ingestor, pricing=pricing),
        )
        runtime.trading = Trading(
            settings=settings,
            sessions=sessions,
            orderbook=orderbook,
            nc=nc,
            hub=hub,
            fanout=fanout,
            metrics=metrics,
            paused=lambda: runtime.control.state.maintenance_on if runtime else False,
        )
        runtime.ws_account = runtime.trading.ws_account
        await _start(runtime)
        logger.info("backend started")
        yield runtime
    finally:
        logger.info("backend stopping")
        if runtime is not None:
            # Together: each finishes its message in hand or waits out its idle fetch (up to
            # a second); one after the other the waits would add up.
            await asyncio.gather(*(c.stop() for c in runtime.consumers.values()))
            await runtime.stop_tasks()
            if runtime.trading is not None:
                await runtime.trading.stop()
            await runtime.control.stop()
            await runtime.fanout.stop()
        with contextlib.suppress(Exception):
            await nc.drain()
        if orderbook is not None:
            await orderbook.close()
        await engine.dispose()


async def _start(runtime: Runtime) -> None:
    control = runtime.control
    await _load_control(runtime)
    control.on_change(_control_notifier(runtime))
    control.start(runtime.kv)
    runtime.fanout.on_message(runtime.pricing.on_live)
    await runtime.fanout.start()
    runtime.spawn(_refresh_quotes_forever(runtime), "quote-refresh")

    def paused() -> bool:
        return control.state.maintenance_on

    consumers = [
        DurableConsumer(
            runtime.js,
            name=REALITY_CONSUMER,
            stream="REALITY",
            subject=contracts.REALITY_SUBJECT,
            metrics=runtime.metrics,
            batch=runtime.settings.consumer_batch,
            batch_handler=consuming.reality_handler(runtime.ingestor),
            paused=paused,
        ),
        DurableConsumer(
            runtime.js,
            name=MARKET_TRADES_CONSUMER,
            stream="MARKET",
            subject=contracts.trades_subject("*"),
            metrics=runtime.metrics,
            batch=runtime.settings.consumer_batch,
            handlers=market_trade_handlers(runtime),
            paused=paused,
        ),
    ]
    for consumer in consumers:
        runtime.consumers[consumer.name] = consumer
        consumer.start()
    if runtime.trading is not None:
        await runtime.trading.start()


async def _load_control(runtime: Runtime) -> None:
    """Read the control keys once before serving, so the first request sees them."""
    for key in (control_mod.MAINTENANCE, control_mod.ANNOUNCEMENT, control_mod.ADMIN_ACCESS):
        try:
            entry = await runtime.kv.get(key)
        except Exception:  # noqa: S112 - a missing key is the default state
            continue
        await runtime.control.set_entry(key, entry.value)


def _control_notifier(runtime: Runtime) -> control_mod.Listener:
    """Tell this replica's sockets about maintenance and announcements (each replica
    watches the KV itself, so this is local delivery, not fan-out)."""

    async def notify(before: control_mod.ControlState, after: control_mod.ControlState) -> None:
        if (before.maintenance_on, before.maintenance_message) != (
            after.maintenance_on,
            after.maintenance_message,
        ):
            runtime.hub.deliver(
                messages.maintenance(
                    after.maintenance_on, after.maintenance_message, after.maintenance.until
                )
            )
        if before.announcement != after.announcement:
            ann = after.announcement
            runtime.hub.deliver(
                messages.announcement(ann.message if ann else None, ann.starts_at if ann else None)
            )

    return notify


async def _refresh_quotes_forever(runtime: Runtime) -> None:
    """Load quotes at start (retrying while PostgreSQL is down), then reload periodically."""
    delay = 0.5
    while True:
        try:
            await runtime.refresh_quotes()
            delay = runtime.settings.cache_refresh_seconds
        except Exception as exc:
            logger.warning("quote refresh failed", extra={"error": type(exc).__name__})
            delay = min(5.0, delay * 2)
        await asyncio.sleep(delay)

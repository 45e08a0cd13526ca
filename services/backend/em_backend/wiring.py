"""Assembling a running backend: which connections, consumers and routers it has.

`running()` is the lifespan body; `routers()` the API surface. New features plug in here:
a router in `routers()`, a consumer handler in `running()` (see `streams.DurableConsumer`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter

from em_backend import control as control_mod
from em_backend.api.routes import health, status
from em_backend.live.fanout import Fanout
from em_backend.live.hub import Hub
from em_backend.market.orderbook import OrderbookClient
from em_backend.market.quotes import QuoteBook
from em_backend.metrics import Metrics
from em_backend.runtime import Runtime
from em_backend.settings import Settings
from em_common import db, messaging

logger = logging.getLogger(__name__)


def routers() -> list[APIRouter]:
    return [health.router, status.router]


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Runtime]:
    metrics = Metrics()
    engine = db.make_engine(settings.database_url, pool_size=10, max_overflow=20)
    nc = await messaging.connect(settings.nats_url, name="em-backend")
    orderbook: OrderbookClient | None = None
    runtime: Runtime | None = None
    try:
        js = nc.jetstream()
        kv = await messaging.ensure_topology(js)
        control = control_mod.Control(
            forced_maintenance=settings.maintenance_mode,
            forced_message=settings.maintenance_message,
        )
        hub = Hub(queue_size=settings.ws_queue_size, metrics=metrics)
        orderbook = OrderbookClient(
            settings.orderbook_addr,
            timeout_seconds=settings.orderbook_timeout_ms / 1000,
            failure_threshold=settings.orderbook_breaker_failures,
            reset_seconds=settings.orderbook_breaker_reset_seconds,
            metrics=metrics,
        )
        runtime = Runtime(
            settings=settings,
            metrics=metrics,
            engine=engine,
            sessions=db.make_sessionmaker(engine),
            control=control,
            hub=hub,
            quotes=QuoteBook(),
            orderbook=orderbook,
            nc=nc,
            js=js,
            kv=kv,
            fanout=Fanout(nc, hub, prefix=settings.live_subject_prefix),
        )
        await _load_control(runtime)
        control.start(kv)
        await runtime.fanout.start()
        logger.info("backend started")
        yield runtime
    finally:
        logger.info("backend stopping")
        if runtime is not None:
            for consumer in runtime.consumers.values():
                await consumer.stop()
            await runtime.stop_tasks()
            await runtime.control.stop()
            await runtime.fanout.stop()
        with contextlib.suppress(Exception):
            await nc.drain()
        if orderbook is not None:
            await orderbook.close()
        await engine.dispose()


async def _load_control(runtime: Runtime) -> None:
    """Read the control keys once before serving, so the first request sees them."""
    for key in (control_mod.MAINTENANCE, control_mod.ANNOUNCEMENT, control_mod.ADMIN_ACCESS):
        try:
            entry = await runtime.kv.get(key)
        except Exception:  # noqa: S112 - a missing key is the default state
            continue
        await runtime.control.set_entry(key, entry.value)

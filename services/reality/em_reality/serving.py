"""`/health` and `/metrics` on REALITY_PORT (8002): probes and Prometheus."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry

from em_reality import engine as engines
from em_reality import metrics, publishing

logger = logging.getLogger(__name__)


def health(engine: engines.Engine, link: publishing.NatsLink | None) -> dict[str, object]:
    totals = engine.totals
    last = totals.last_cycle_at
    return {
        "status": "ok",
        "leader": engine.leader is None or engine.leader.is_leader,
        "cycles": totals.cycles,
        "last_cycle_at": last.isoformat() if last else None,
        "last_cycle_age_s": (datetime.now(UTC) - last).total_seconds() if last else None,
        "nats_connected": link.connected if link is not None else None,
        "outbox_depth": engine.relay.depth if engine.relay is not None else None,
        "llm": "enabled" if engine.llm.enabled else "disabled",
        "llm_budget_remaining": round(engine.llm.bucket.remaining, 2),
    }


def build_app(
    engine: engines.Engine, registry: CollectorRegistry, link: publishing.NatsLink | None
) -> web.Application:
    async def get_health(_: web.Request) -> web.Response:
        return web.json_response(health(engine, link))

    async def get_metrics(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.render(registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def get_root(_: web.Request) -> web.Response:
        return web.json_response({"service": "reality", "endpoints": ["/health", "/metrics"]})

    app = web.Application()
    app.router.add_get("/", get_root)
    app.router.add_get("/health", get_health)
    app.router.add_get("/metrics", get_metrics)
    return app


async def start(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app`; returns the runner (to clean up) and the bound port (port 0 → any)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = port
    sockets = getattr(site._server, "sockets", None)
    if sockets:
        bound = int(sockets[0].getsockname()[1])
    logger.info("http listening", extra={"host": host, "port": bound})
    return runner, bound

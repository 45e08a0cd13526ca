"""The operator's own HTTP endpoint: `/healthz` for the kubelet, `/metrics` for Prometheus.

Answering at all proves the event loop is alive, which is what kopf's liveness
endpoint checks too; one port serves both so the Deployment needs one.
"""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

logger = logging.getLogger(__name__)


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics(_: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


def application() -> web.Application:
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def start(port: int) -> web.AppRunner:
    runner = web.AppRunner(application())
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    logger.info("serving /healthz and /metrics", extra={"port": port})
    return runner

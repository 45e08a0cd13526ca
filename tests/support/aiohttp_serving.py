"""Serve an aiohttp app on a free loopback port: the start-up the test servers share."""

from __future__ import annotations

from aiohttp import web


async def start(app: web.Application, host: str) -> tuple[web.AppRunner, int]:
    """Start `app` on `host` at a port the OS picks; return the runner (to clean up) and port."""
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    server = site._server
    assert server is not None
    port: int = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    return runner, port

"""`em backend`: serve the API with uvicorn; SIGTERM stops accepting, drains, then exits."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from em_backend import settings as settings_mod
from em_backend.app import create_app
from em_common import logs

logger = logging.getLogger(__name__)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="em backend", description=__doc__)
    parser.add_argument("--host", help="bind address (default: HOST or 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    args = parser.parse_args(argv)
    settings = settings_mod.load()
    logs.configure(settings.log_level, service="backend")
    config = uvicorn.Config(
        create_app(settings),
        host=args.host or settings.host,
        port=settings.port if args.port is None else args.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=int(settings.drain_seconds),
        lifespan="on",
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1

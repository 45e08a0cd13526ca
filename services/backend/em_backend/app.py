"""`create_app(settings)`: the FastAPI application and its async lifespan.

The lifespan owns every connection (PostgreSQL engine, NATS + JetStream + topology, the
control-KV watcher, the gRPC channel to the orderbook) and the background consumers; it
tears them down in reverse order so a SIGTERM drains instead of dropping work.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from em_backend import errors, wiring
from em_backend.api.middleware import GuardMiddleware
from em_backend.settings import Settings
from em_backend.web import mount as web_ui

logger = logging.getLogger(__name__)

API_DESCRIPTION = (
    "Everything Market: a reality-driven prediction market. Prices are points on a 0-100 "
    "scale with two decimals; admin endpoints need the X-ADMIN-KEY header."
)


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with wiring.running(settings) as runtime:
            app.state.runtime = runtime
            try:
                yield
            finally:
                app.state.runtime = None

    app = FastAPI(
        title="Everything Market",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.add_middleware(GuardMiddleware)
    app.add_exception_handler(errors.BackendError, _backend_error)
    app.add_exception_handler(sa_exc.OperationalError, _database_down)
    app.add_exception_handler(sa_exc.InterfaceError, _database_down)
    app.add_exception_handler(psycopg.OperationalError, _database_down)  # the order path's
    for router in wiring.routers():
        app.include_router(router)
    web_ui.install(app)
    return app


async def _backend_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.BackendError)
    headers = {"Retry-After": "5"} if isinstance(exc, errors.Unavailable) else None
    if isinstance(exc, errors.Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}
    return JSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers=headers)


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable", extra={"error": type(exc).__name__})
    return JSONResponse(
        {"detail": "the database is unavailable; try again shortly"},
        status_code=503,
        headers={"Retry-After": "5"},
    )

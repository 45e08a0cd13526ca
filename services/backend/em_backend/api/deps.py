"""Dependency aliases used by every route (defined once, as in the full-stack template)."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Security
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from em_backend import errors, security
from em_backend.domain.ratelimit import Limiter
from em_backend.runtime import Runtime
from em_backend.settings import Settings
from em_backend.trading.service import Trading
from em_common import signing

logger = logging.getLogger(__name__)


# Dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in a
# worker thread, a thread hop per request that costs more than the hot reads themselves.
async def get_runtime(conn: HTTPConnection) -> Runtime:
    runtime: Runtime = conn.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One session per request; routes commit explicitly, anything else rolls back."""
    async with runtime.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

admin_key_header = APIKeyHeader(
    name="X-ADMIN-KEY", auto_error=False, description="The admin API key (ADMIN_API_KEY)."
)


def key_matches(offered: str, accepted: list[str]) -> bool:
    """Constant-time comparison against every accepted key (no early exit on a match)."""
    matched = False
    for key in accepted:
        matched |= hmac.compare_digest(offered.encode(), key.encode())
    return matched


async def require_admin(
    conn: HTTPConnection,
    runtime: RuntimeDep,
    key: Annotated[str | None, Security(admin_key_header)] = None,
) -> str:
    """Admit admins; returns a fingerprint of the key used (for audit, never the key)."""
    client = conn.client.host if conn.client else "?"
    if not runtime.control.state.admin_access.enabled:
        runtime.metrics.admin_auth_failures.labels("locked").inc()
        logger.warning("admin request during lockout", extra={"client": client})
        raise errors.Forbidden("admin access is locked")
    if not key:
        runtime.metrics.admin_auth_failures.labels("missing").inc()
        logger.warning("admin request without a key", extra={"client": client})
        raise errors.Unauthorized("X-ADMIN-KEY header is required")
    if not key_matches(key, runtime.settings.admin_keys()):
        runtime.metrics.admin_auth_failures.labels("wrong").inc()
        logger.warning("admin request with a wrong key", extra={"client": client})
        raise errors.Forbidden("invalid admin key")
    return signing.fingerprint(key)


AdminKey = Annotated[str, Depends(require_admin)]


@dataclass(frozen=True)
class Trader:
    """An authenticated trader (filled in by the trading routes' JWT dependency)."""

    user_id: int
    username: str
    account_id: int


oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/login",
    auto_error=False,
    description="A trader's access token from POST /api/v1/auth/login.",
)


def within_rate(limiter: Limiter, key: str, limited: Counter, scope: str, detail: str) -> None:
    """Count one request of `key`; over its rate, 429 with Retry-After (counted by scope)."""
    wait = limiter.take(key, time.monotonic())
    if wait:
        limited.labels(scope).inc()
        raise HTTPException(
            status_code=429, detail=detail, headers={"Retry-After": str(limiter.retry_after(wait))}
        )


def trader_of(runtime: Runtime, token: str | None) -> Trader:
    """The trader of a valid bearer token; missing, expired or forged tokens answer 401."""
    if not token:
        raise errors.Unauthorized("not authenticated: send Authorization: Bearer <token>")
    try:
        claims = security.decode(runtime.settings.jwt_secret.get_secret_value(), token)
    except security.InvalidToken as exc:
        raise errors.Unauthorized(str(exc)) from exc
    return Trader(user_id=claims.user_id, username=claims.username, account_id=claims.account_id)


async def current_trader(
    runtime: RuntimeDep, token: Annotated[str | None, Security(oauth2_scheme)] = None
) -> Trader:
    return trader_of(runtime, token)


CurrentTrader = Annotated[Trader, Depends(current_trader)]


async def get_trading(runtime: RuntimeDep) -> Trading:
    if runtime.trading is None:
        raise errors.Unavailable("trading is not available")
    return runtime.trading


TradingDep = Annotated[Trading, Depends(get_trading)]

"""Trader sign-up and sign-in: argon2 password hashes, short-lived bearer tokens."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from starlette.requests import HTTPConnection

from em_backend import errors, security
from em_backend.api.deps import CurrentTrader, SessionDep, SettingsDep, TradingDep, within_rate
from em_backend.models import auth as models
from em_backend.store import accounts
from em_common import constants

router = APIRouter(prefix="/api/v1", tags=["auth"])

RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many attempts from this address; see Retry-After"}
}


async def limit_by_address(conn: HTTPConnection, trading: TradingDep) -> None:
    """Login and registration attempts per client address (429 with Retry-After)."""
    address = conn.client.host if conn.client else "unknown"
    limited, detail = trading.metrics.rate_limited, "too many attempts; try again later"
    within_rate(trading.auth_limiter, address, limited, "auth", detail)


RateLimited = Annotated[None, Depends(limit_by_address)]


@router.post(
    "/auth/register",
    status_code=201,
    response_model=models.TraderPublic,
    responses={409: {"description": "The username is taken"}, **RATE_LIMITED},
)
async def register(
    body: models.UserCreate, session: SessionDep, _: RateLimited
) -> models.TraderPublic:
    """Create a trader whose account starts with 10,000.00 credits."""
    password_hash = await asyncio.to_thread(security.hash_password, body.password)
    async with session.begin():
        row = await accounts.register(
            session, body.username, password_hash, constants.STARTING_CASH
        )
    return models.TraderPublic(
        user_id=row.user_id,
        username=row.username,
        account_id=row.account_id,
        created_at=row.created_at,
    )


_LOGIN_SCHEMA = models.LoginBody.model_json_schema()


@router.post(
    "/auth/login",
    response_model=models.TokenPublic,
    responses={
        401: {"description": "Wrong username or password"},
        422: {"description": "Missing or malformed fields"},
        **RATE_LIMITED,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _LOGIN_SCHEMA},
                "application/x-www-form-urlencoded": {"schema": _LOGIN_SCHEMA},
            },
        }
    },
)
async def login(
    request: Request, session: SessionDep, settings: SettingsDep, _: RateLimited
) -> models.TokenPublic:
    """A bearer token for a JSON body or an OAuth2 password-flow form (username, password)."""
    body = await _login_body(request)
    row = await accounts.by_username(session, body.username)
    ok = await asyncio.to_thread(
        security.verify_password, row.password_hash if row else None, body.password
    )
    if row is None or not ok:
        raise errors.Unauthorized("incorrect username or password")
    ttl = timedelta(minutes=settings.jwt_expire_minutes)
    token, _claims = security.issue(
        settings.jwt_secret.get_secret_value(),
        user_id=row.user_id,
        username=row.username,
        account_id=row.account_id,
        ttl=ttl,
        now=datetime.now(UTC),
    )
    return models.TokenPublic(access_token=token, expires_in=int(ttl.total_seconds()))


async def _login_body(request: Request) -> models.LoginBody:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: Any
    try:
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.form()
            data = {k: v for k, v in form.items() if isinstance(v, str)}
        else:
            data = await request.json()
    except ValueError:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body",),
                    "msg": "body is not valid JSON",
                    "input": None,
                }
            ]
        ) from None
    try:
        return models.LoginBody.model_validate(data)
    except pydantic.ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


@router.get(
    "/me", response_model=models.TraderPublic, responses={401: {"description": "No valid token"}}
)
async def me(trader: CurrentTrader, session: SessionDep) -> models.TraderPublic:
    """The authenticated trader."""
    row = await accounts.by_user_id(session, trader.user_id)
    if row is None:
        raise errors.Unauthorized("the account no longer exists")
    return models.TraderPublic(
        user_id=row.user_id,
        username=row.username,
        account_id=row.account_id,
        created_at=row.created_at,
    )

"""Building signed events, listing symbols, polling with a deadline, reading the database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import psycopg

from em_common import signing

T = TypeVar("T")

REALITY_SECRET = "test-reality-secret-0123456789"
ADMIN_KEY = "test-admin-key-0123456789"


def event(
    stocks: list[str],
    impact: str,
    *,
    source: str = "wire-a",
    at: datetime | None = None,
    event_id: str | None = None,
    llm_calls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event_id or f"evt-{uuid.uuid4().hex[:16]}",
        "timestamp": (at or datetime.now(UTC)).isoformat(),
        "stocks": stocks,
        "quick_score": 0.5,
        "impact_points": impact,
        "summary": "Something happened",
        "sources": [{"id": source, "url": f"https://{source}.example/1", "trust": 0.8}],
        "num_independent_sources": 1,
        "llm_mode": "skipped",
        "llm_calls": llm_calls or [],
    }


def signed(payload: dict[str, Any], secret: str = REALITY_SECRET) -> tuple[bytes, str]:
    body = signing.canonical_json(payload)
    return body, signing.sign(body, secret)


async def list_symbol(admin: httpx.AsyncClient, symbol: str, **extra: Any) -> dict[str, Any]:
    body = {"symbol": symbol, "name": f"{symbol} Inc", **extra}
    response = await admin.post("/api/v1/admin/stocks", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def trader(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Register and sign in a trader; returns the headers of their requests."""
    creds = {"username": username, "password": "correct horse battery"}
    registered = await http.post("/api/v1/auth/register", json=creds)
    assert registered.status_code == 201, registered.text
    login = await http.post("/api/v1/auth/login", json=creds)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def order(http: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """Place an order through the API (a limit order unless `type` says otherwise)."""
    body.setdefault("client_order_id", uuid.uuid4().hex)
    response = await http.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    within: float = 10.0,
    interval: float = 0.05,
) -> T:
    """Poll `probe` until `accept(value)`; fail with the last value after `within` s."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if accept(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s; last value: {value!r}")
        await asyncio.sleep(interval)


async def rows(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(sql, params)
        return list(await cur.fetchall())


async def count(database_url: str, table: str) -> int:
    result = await rows(database_url, f"SELECT count(*) FROM {table}")
    return int(result[0][0])


async def table_counts(database_url: str) -> dict[str, int]:
    tables = ("events", "score_changes", "llm_audit", "llm_calls", "score_history")
    return {t: await count(database_url, t) for t in tables}


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message)


def ago(**kwargs: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kwargs)


def process_env(
    database_url: str, nats_url: str, orderbook_addr: str, **extra: str
) -> dict[str, str]:
    """The environment of `em backend` run as a production process."""
    return {
        **os.environ,
        "EM_ENV": "production",
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "ORDERBOOK_ADDR": orderbook_addr,
        "REALITY_API_SECRET": REALITY_SECRET,
        "ADMIN_API_KEY": ADMIN_KEY,
        "JWT_SECRET": "a-real-jwt-secret-0123456789abcdef",
        **extra,
    }


async def start_process(
    port: int, env: dict[str, str], *, output: int
) -> asyncio.subprocess.Process:
    """`em backend` on 127.0.0.1:`port`; `output` is asyncio.subprocess.PIPE or DEVNULL."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "em_cli.main", "backend", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        stdout=output,
        stderr=asyncio.subprocess.STDOUT,
    )


async def list_elon_tsla_and_tech(admin: httpx.AsyncClient) -> None:
    """ELON (score 50), TSLA (40) and TECH, an index of the two at 0.5 each."""
    await list_symbol(admin, "ELON")
    await list_symbol(admin, "TSLA", initial_score="40")
    await list_symbol(
        admin,
        "TECH",
        kind="index",
        components=[{"symbol": "ELON", "weight": "0.5"}, {"symbol": "TSLA", "weight": "0.5"}],
    )

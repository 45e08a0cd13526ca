"""A whole backend for trading tests: real PostgreSQL, NATS JetStream, the real journaled
orderbook service over gRPC on loopback, and the app served by uvicorn.

`stack` starts everything for one test on a fresh database, with the JetStream streams
emptied so no earlier test's trades reach this one, and an orderbook journal of its own (so
no earlier test's books either). Helpers register traders, list symbols through the admin
API and wait for settlement with a deadline (never a sleep).

Faults are real too: `running_stack(..., orderbook="down")` points the backend at a closed
port, `stack.stop_orderbook()` stops the service mid-test, `slow_link=True` puts a relay
between backend and orderbook whose answers the test can hold back (a client deadline
expires after the order was placed), and `orderbook_settings={"orderbook_outputs":
"external"}` runs the matcher without its outputs follower (tests start one when they want
the MARKET stream to catch up: `orderbook_support.outputs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import httpx
import psycopg
import pytest
from nats.aio.client import Client as Nats
from nats.js import errors as js_errors

from em_backend.runtime import Runtime
from em_backend.settings import Settings
from em_cli.devstack import ports
from em_common import contracts, messaging
from em_orderbook import serving as orderbook_serving
from tests.support import orderbook as orderbook_support
from tests.support.backend_server import RunningBackend, serve
from tests.support.slow_link import SlowLink

ADMIN_KEY = "test-admin-key-0123456789abcdef0123456789"
JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789abcdef"
REALITY_SECRET = "test-reality-secret-0123456789abcdef012345"
PASSWORD = "correct horse battery"


def settings_for(database_url: str, nats_url: str, orderbook_addr: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "em_env": "test",
        "database_url": database_url,
        "nats_url": nats_url,
        "orderbook_addr": orderbook_addr,
        "admin_api_key": ADMIN_KEY,
        "jwt_secret": JWT_SECRET,
        "reality_api_secret": REALITY_SECRET,
        "cache_refresh_seconds": 1.0,
        "auth_rate_per_minute": 600.0,
        "auth_burst": 100,
        "order_rate_per_second": 500.0,
        "order_burst": 500,
    }
    values.update(extra)
    return Settings(**values)


async def empty_streams(nc: Nats) -> None:
    """Fresh MARKET and REALITY streams and an empty control bucket (the NATS server lives
    for the whole session: an earlier test may have left maintenance on)."""
    js = nc.jetstream()
    for name in ("MARKET", "REALITY"):
        with contextlib.suppress(js_errors.NotFoundError):
            await js.delete_stream(name)
    with contextlib.suppress(js_errors.NotFoundError):
        await js.delete_key_value(contracts.CONTROL_BUCKET)
    await messaging.ensure_topology(js)


@dataclass
class Trader:
    username: str
    token: str
    account_id: int
    client: httpx.AsyncClient

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def order(self, **body: Any) -> httpx.Response:
        body.setdefault("client_order_id", uuid.uuid4().hex)
        return await self.client.post("/api/v1/orders", json=body, headers=self.headers)

    async def get(self, path: str, **params: Any) -> Any:
        resp = await self.client.get(path, headers=self.headers, params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()


@dataclass
class Stack:
    base_url: str
    database_url: str
    settings: Settings
    backend: RunningBackend
    client: httpx.AsyncClient
    nc: Nats
    orderbook: orderbook_serving.Running | None = None
    link: SlowLink | None = None
    traders: list[Trader] = field(default_factory=list)
    _orderbook_exits: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    async def stop_orderbook(self) -> None:
        """Take the orderbook away mid-test (it drains and stops, as on SIGTERM)."""
        await self._orderbook_exits.aclose()
        self.orderbook = None

    @property
    def runtime(self) -> Runtime:
        return self.backend.runtime

    async def list_symbol(self, symbol: str, initial_score: str = "50") -> None:
        resp = await self.client.post(
            "/api/v1/admin/stocks",
            json={"symbol": symbol, "name": symbol.title(), "initial_score": initial_score},
            headers={"X-ADMIN-KEY": ADMIN_KEY},
        )
        assert resp.status_code in (200, 201), resp.text

    async def trader(self, username: str | None = None) -> Trader:
        username = username or f"t{uuid.uuid4().hex[:10]}"
        resp = await self.client.post(
            "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
        )
        assert resp.status_code == 201, resp.text
        token = await self.login(username)
        trader = Trader(username, token, resp.json()["account_id"], self.client)
        self.traders.append(trader)
        return trader

    async def login(self, username: str, password: str = PASSWORD) -> str:
        resp = await self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert resp.status_code == 200, resp.text
        token: str = resp.json()["access_token"]
        return token

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, args).fetchall()

    async def settled(self, count: int, within: float = 15.0) -> None:
        """Wait until `count` trades are settled and no order waits for its answer."""
        await until(
            lambda: (
                self.sql(
                    "SELECT (SELECT count(*) FROM settled_trades),"
                    " (SELECT count(*) FROM order_reservations WHERE status = 'pending')"
                )[0]
                == (count, 0)
            ),
            within,
            f"{count} settled trades",
        )

    async def orderbook_settled(self, within: float = 15.0) -> int:
        """Wait until the real orderbook's outputs follower has published and stored
        everything its journal holds, then until the backend settled every trade in the
        orderbook's own `trades` table; returns how many there are."""
        assert self.orderbook is not None, "the real orderbook is not running"
        service = self.orderbook.service

        async def caught_up() -> bool:
            status = await service.outputs_status() or {}
            through = min(status.get("published_through", -1), status.get("projected_through", -1))
            return int(through) >= service.market.seq

        await until(caught_up, within, "the orderbook's outputs to catch up")
        [(trades,)] = self.sql("SELECT count(*) FROM trades")
        await self.settled(int(trades), within)
        return int(trades)


async def until(check: Callable[[], Any], within: float, what: str) -> None:
    """Poll `check` (sync or async) until truthy, or fail naming `what`."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


OrderbookKind = Literal["real", "down"]


@contextlib.asynccontextmanager
async def running_stack(
    database_url: str,
    nats_url: str,
    *,
    orderbook: OrderbookKind = "real",
    orderbook_settings: dict[str, Any] | None = None,
    slow_link: bool = False,
    **extra: Any,
) -> AsyncIterator[Stack]:
    """The backend under uvicorn with the real journaled orderbook (in-process, real gRPC
    over loopback, its own journal; `orderbook_settings` override its settings) or with none
    at all. With `slow_link` the backend reaches it through a relay whose answers the test
    can hold back (`stack.link`). `extra` are backend settings."""
    before = asyncio.all_tasks()
    nc = await messaging.connect(nats_url, name="pytest-trading")
    await empty_streams(nc)
    ob_exits = contextlib.AsyncExitStack()
    try:
        async with contextlib.AsyncExitStack() as exits:
            exits.push_async_callback(ob_exits.aclose)
            run: orderbook_serving.Running | None = None
            if orderbook == "real":
                journal = orderbook_support.unique("J")
                ob_exits.push_async_callback(orderbook_support.forget_journal, nc, journal)
                config = orderbook_support.settings(
                    database_url, nats_url, journal, **(orderbook_settings or {})
                )
                run = await ob_exits.enter_async_context(orderbook_serving.running(config))
                addr = run.target
            else:
                addr = f"127.0.0.1:{ports.free_port()}"
            link: SlowLink | None = None
            if slow_link:
                link = await SlowLink(addr).start()
                exits.push_async_callback(link.stop)
                addr = link.addr
            settings = settings_for(database_url, nats_url, addr, **extra)
            async with (
                serve(settings) as backend,
                httpx.AsyncClient(base_url=backend.base_url, timeout=30) as client,
            ):
                yield Stack(
                    backend.base_url,
                    database_url,
                    settings,
                    backend,
                    client,
                    nc,
                    orderbook=run,
                    link=link,
                    _orderbook_exits=ob_exits,
                )
    finally:
        await nc.drain()
    # Everything stopped cleanly: the backend, the orderbook, its outputs follower.
    await asyncio.sleep(0)
    leaked = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not leaked, f"tasks left running after the stack stopped: {leaked}"


@pytest.fixture
async def stack(database_url: str, nats_url: str) -> AsyncIterator[Stack]:
    """The backend against the real orderbook service."""
    async with running_stack(database_url, nats_url) as running:
        yield running


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def check_invariants(stack: Stack) -> None:
    """The money rules, straight from the tables (ARCHITECTURE §6)."""
    q = stack.sql
    assert q("SELECT coalesce(sum(cash + reserved + collateral), 0) FROM accounts") == [(0,)]
    assert q("SELECT count(*) FROM accounts WHERE system_key IS NULL AND cash < 0") == [(0,)]
    assert (
        q("SELECT symbol, sum(quantity) FROM positions GROUP BY 1 HAVING sum(quantity) <> 0") == []
    )
    assert q("SELECT txn_id FROM ledger_entries GROUP BY 1 HAVING sum(amount) <> 0") == []
    # Every balance is exactly the sum of its ledger legs.
    assert (
        q(
            """
            SELECT a.id FROM accounts a LEFT JOIN (
                SELECT account_id,
                       sum(amount) FILTER (WHERE bucket = 'cash') AS cash,
                       sum(amount) FILTER (WHERE bucket = 'reserved') AS reserved,
                       sum(amount) FILTER (WHERE bucket = 'collateral') AS collateral
                FROM ledger_entries GROUP BY account_id) l ON l.account_id = a.id
            WHERE a.cash <> coalesce(l.cash, 0) OR a.reserved <> coalesce(l.reserved, 0)
               OR a.collateral <> coalesce(l.collateral, 0)
            """
        )
        == []
    )
    # Reserved is what the orders hold; collateral is what the shorts posted.
    assert (
        q(
            """
            SELECT a.id FROM accounts a
            WHERE a.reserved <> (SELECT coalesce(sum(reserved), 0) FROM order_reservations r
                                 WHERE r.account_id = a.id)
               OR a.collateral <> (SELECT coalesce(sum(100 * -quantity - cost_basis), 0)
                                   FROM positions p WHERE p.account_id = a.id AND quantity < 0)
            """
        )
        == []
    )

"""Fixtures for backend tests: a fresh NATS server and migrated database per test, the real
orderbook service on loopback gRPC, and the backend served by uvicorn on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client

from em_backend.settings import Settings
from em_cli.devstack import nats_server
from em_common import messaging
from tests.integration.backend.helpers import ADMIN_KEY, REALITY_SECRET
from tests.support import orderbook as orderbook_support
from tests.support import prereq
from tests.support.backend_server import RunningBackend, serve


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[str]:
    """A NATS server of this test alone: durable consumers and streams start empty."""
    try:
        nats_server.binary()
    except FileNotFoundError as exc:
        prereq.missing(str(exc))
    server = nats_server.NatsServer(tmp_path / "nats", log_path=tmp_path / "nats.log").start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def orderbook(database_url: str, own_nats: str) -> AsyncIterator[orderbook_support.Shard]:
    """The real orderbook service, on this test's NATS server and database."""
    config = orderbook_support.settings(database_url, own_nats, orderbook_support.unique("J"))
    async with orderbook_support.served(config) as shard:
        yield shard


@pytest.fixture
def backend_settings(
    database_url: str, own_nats: str, orderbook: orderbook_support.Shard
) -> Settings:
    return Settings(
        em_env="test",
        database_url=database_url,
        nats_url=own_nats,
        orderbook_addr=orderbook.addr,
        reality_api_secret=REALITY_SECRET,
        admin_api_key=ADMIN_KEY,
        jwt_secret="test-jwt-secret-0123456789abcdef",
        ws_heartbeat_seconds=5.0,
        cache_refresh_seconds=60.0,
    )


@pytest.fixture
async def backend(backend_settings: Settings) -> AsyncIterator[RunningBackend]:
    async with serve(backend_settings) as running:
        yield running


@pytest.fixture
async def http(backend: RunningBackend) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=backend.base_url, timeout=10.0) as client:
        yield client


@pytest.fixture
async def admin(backend: RunningBackend) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=backend.base_url, timeout=10.0, headers={"X-ADMIN-KEY": ADMIN_KEY}
    ) as client:
        yield client


@pytest.fixture
async def bus(own_nats: str) -> AsyncIterator[Client]:
    client = await messaging.connect(own_nats, name="pytest-backend")
    try:
        yield client
    finally:
        await client.drain()

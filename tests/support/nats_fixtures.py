"""A JetStream nats-server per test session, and a connected client per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from em_cli.devstack import nats_server
from em_common import messaging
from tests.support import prereq


@pytest.fixture(scope="session")
def nats_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[nats_server.NatsServer]:
    try:
        nats_server.binary()
    except FileNotFoundError as exc:
        prereq.missing(str(exc))
    base: Path = tmp_path_factory.mktemp("nats")
    server = nats_server.NatsServer(base / "data", log_path=base / "nats.log").start()
    yield server
    server.stop()


@pytest.fixture
def nats_url(nats_srv: nats_server.NatsServer) -> str:
    return nats_srv.url


@pytest.fixture
async def nc(nats_srv: nats_server.NatsServer) -> AsyncIterator[Client]:
    client = await messaging.connect(nats_srv.url, name="pytest")
    try:
        yield client
    finally:
        await client.drain()

"""Helpers for orderbook integration tests: settings, an in-process service, request builders.

Every test gets its own journal prefix (so its own journal, snapshots and id epoch) and its
own symbols, because the NATS server and its MARKET stream are shared by the session.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
from nats.aio.client import Client as Nats
from nats.js import errors as js_errors

from em_orderbook import following, recovering, serving
from em_orderbook.service import OrderbookService
from em_orderbook.settings import OrderbookSettings
from everything_market.v1 import orderbook_pb2 as pb
from everything_market.v1 import orderbook_pb2_grpc as pb_grpc

_coids = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def settings(database_url: str, nats_url: str, journal: str, **extra: Any) -> OrderbookSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "orderbook_bind": "127.0.0.1",
        "orderbook_grpc_port": 0,
        "orderbook_http_port": 0,
        "orderbook_journal": journal,
        "orderbook_drain_seconds": 5.0,
        "orderbook_outputs": "inline",
        "em_env": "test",
    } | extra
    return OrderbookSettings(**values)


async def forget_journal(nc: Nats, journal: str, shards: int = 1) -> None:
    """Delete a stopped test shard's journal streams and snapshot bucket: the session's NATS
    server would otherwise keep one set per test."""
    js = nc.jetstream()
    for shard in range(shards):
        stream, _, bucket = recovering.names(journal, shard)
        with contextlib.suppress(js_errors.NotFoundError):
            await js.delete_stream(stream)
    with contextlib.suppress(js_errors.NotFoundError):
        await js.delete_key_value(bucket)


class Shard:
    """A running real orderbook shard that a test may stop before its end (it drains and
    stops as on SIGTERM); otherwise it stops when its `served` block ends."""

    def __init__(self, run: serving.Running, exits: contextlib.AsyncExitStack) -> None:
        self.run = run
        self._exits = exits

    @property
    def addr(self) -> str:
        return self.run.target

    @property
    def service(self) -> OrderbookService:
        return self.run.service

    async def stop(self) -> None:
        await self._exits.aclose()


@asynccontextmanager
async def served(config: OrderbookSettings) -> AsyncIterator[Shard]:
    async with contextlib.AsyncExitStack() as exits:
        run = await exits.enter_async_context(serving.running(config))
        yield Shard(run, exits)


@asynccontextmanager
async def outputs(config: OrderbookSettings) -> AsyncIterator[following.OutputsFollower]:
    """Shard 0's outputs follower on its own, as `em orderbook --role outputs` runs it next
    to a matcher started with `orderbook_outputs="external"`."""
    follower = following.OutputsFollower(config, 0)
    try:
        await follower.start()
        yield follower
        await follower.drain(config.orderbook_drain_seconds)
    finally:
        await follower.close()


@asynccontextmanager
async def service(config: OrderbookSettings) -> AsyncIterator[tuple[serving.Running, Any]]:
    """A running shard and an async stub connected to it."""
    async with serving.running(config) as run:
        channel = grpc.aio.insecure_channel(run.target)
        try:
            yield run, pb_grpc.OrderbookStub(channel)
        finally:
            await channel.close()


def limit(
    symbol: str,
    account: int | str,
    side: str,
    price: int,
    qty: int,
    *,
    coid: str | None = None,
    tif: pb.TimeInForce.ValueType = pb.TIME_IN_FORCE_UNSPECIFIED,
) -> pb.PlaceOrderRequest:
    return pb.PlaceOrderRequest(
        symbol=symbol,
        account_id=str(account),
        client_order_id=coid or f"c{next(_coids)}",
        side=pb.SIDE_BUY if side == "buy" else pb.SIDE_SELL,
        type=pb.ORDER_TYPE_LIMIT,
        time_in_force=tif,
        price_cents=price,
        quantity=qty,
    )


def market(
    symbol: str, account: int | str, side: str, qty: int, *, coid: str | None = None
) -> pb.PlaceOrderRequest:
    return pb.PlaceOrderRequest(
        symbol=symbol,
        account_id=str(account),
        client_order_id=coid or f"c{next(_coids)}",
        side=pb.SIDE_BUY if side == "buy" else pb.SIDE_SELL,
        type=pb.ORDER_TYPE_MARKET,
        quantity=qty,
    )

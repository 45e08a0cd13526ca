"""PlaceBatcher: concurrent orders share PlaceOrders calls, and every order gets its own
answer, refusal or unavailability (with the cause kept for "never sent" decisions)."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc import aio as grpc_aio

from em_backend import errors
from em_backend.market.batching import OrderRefused, PlaceBatcher
from everything_market.v1 import orderbook_pb2 as pb


def order(n: int) -> pb.PlaceOrderRequest:
    return pb.PlaceOrderRequest(symbol="ELON", account_id="1", client_order_id=f"c{n}")


class Orderbook:
    """Answers each order with its client_order_id as the order id, once released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.refuse: set[str] = set()
        self.fail: Exception | None = None

    async def call(
        self, method: str, request: pb.PlaceOrdersRequest, *, deadline: float | None = None
    ) -> pb.PlaceOrdersResponse:
        assert method == "PlaceOrders" and deadline == 2.0
        self.batches.append([o.client_order_id for o in request.orders])
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        resp = pb.PlaceOrdersResponse()
        for o in request.orders:
            if o.client_order_id in self.refuse:
                resp.results.add(error=f"price: out of range for {o.client_order_id}")
            else:
                resp.results.add(response=pb.PlaceOrderResponse(order_id=o.client_order_id))
        return resp


async def test_orders_arriving_during_a_call_share_the_next_one() -> None:
    book = Orderbook()
    batcher = PlaceBatcher(book, deadline=2.0, in_flight=1)
    first = asyncio.create_task(batcher.place(order(0)))
    await asyncio.sleep(0)  # the first order leaves alone, at once
    rest = [asyncio.create_task(batcher.place(order(n))) for n in range(1, 8)]
    await asyncio.sleep(0)
    assert book.batches == [["c0"]]
    book.release.set()
    answers = await asyncio.gather(first, *rest)
    assert [a.order_id for a in answers] == [f"c{n}" for n in range(8)]
    assert book.batches == [["c0"], [f"c{n}" for n in range(1, 8)]]


async def test_a_refused_order_fails_alone() -> None:
    book = Orderbook()
    book.refuse = {"c1"}
    book.release.set()
    batcher = PlaceBatcher(book, deadline=2.0)
    results = await asyncio.gather(
        *(batcher.place(order(n)) for n in range(3)), return_exceptions=True
    )
    assert isinstance(results[1], OrderRefused)
    assert results[1].details == "price: out of range for c1"
    assert [r.order_id for r in (results[0], results[2])] == ["c0", "c2"]  # type: ignore[union-attr]


async def test_unavailable_reaches_every_order_with_its_cause() -> None:
    book = Orderbook()
    cause = grpc_aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc_aio.Metadata(), grpc_aio.Metadata(), "failed to connect"
    )
    unavailable = errors.OrderbookUnavailable("the orderbook did not answer (UNAVAILABLE)")
    unavailable.__cause__ = cause
    book.fail = unavailable
    book.release.set()
    batcher = PlaceBatcher(book, deadline=2.0)
    results = await asyncio.gather(
        *(batcher.place(order(n)) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, errors.OrderbookUnavailable) for r in results)
    assert all(r.__cause__ is cause for r in results)  # type: ignore[union-attr]
    assert len({id(r) for r in results}) == 3  # one exception object per waiter


async def test_a_batch_refused_as_a_whole_refuses_each_order() -> None:
    book = Orderbook()
    book.fail = grpc_aio.AioRpcError(
        grpc.StatusCode.INVALID_ARGUMENT, grpc_aio.Metadata(), grpc_aio.Metadata(), "orders: bad"
    )
    book.release.set()
    batcher = PlaceBatcher(book, deadline=2.0)
    with pytest.raises(OrderRefused, match="orders: bad"):
        await batcher.place(order(0))

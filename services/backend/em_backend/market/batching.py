"""PlaceOrder calls from concurrent requests, sent together as PlaceOrders batches.

A unary gRPC call costs about as much CPU on each side as everything else an order does
in the orderbook. Requests that arrive while a batch is on its way wait for the next one,
which leaves as soon as a slot is free: an order on an idle market goes out alone and at
once, and under load one call carries many orders. The orderbook answers each order of a
batch exactly as PlaceOrder would (idempotent on account + client_order_id), or with the
error text PlaceOrder would have carried.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from grpc import aio as grpc_aio

from em_backend import errors
from everything_market.v1 import orderbook_pb2 as pb

MAX_BATCH = 200  # well under the orderbook's per-call limit


class OrderRefused(Exception):
    """The orderbook refused this order (the request was invalid for it)."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


class Caller(Protocol):
    async def call(
        self, method: str, request: pb.PlaceOrdersRequest, *, deadline: float | None = None
    ) -> pb.PlaceOrdersResponse: ...


Waiter = tuple[pb.PlaceOrderRequest, "asyncio.Future[pb.PlaceOrderResponse]"]


class PlaceBatcher:
    def __init__(self, client: Caller, *, deadline: float, in_flight: int = 2) -> None:
        self._client = client
        self._deadline = deadline
        self._slots = in_flight
        self._busy = 0
        self._waiting: list[Waiter] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def place(self, request: pb.PlaceOrderRequest) -> pb.PlaceOrderResponse:
        """The orderbook's answer; OrderbookUnavailable (its cause kept, so callers can tell
        "never sent" from "unknown outcome") or OrderRefused otherwise."""
        future: asyncio.Future[pb.PlaceOrderResponse] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        self._pump()
        return await future

    def _pump(self) -> None:
        while self._waiting and self._busy < self._slots:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            self._busy += 1
            task = asyncio.create_task(self._send(batch), name="place-orders-batch")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[Waiter]) -> None:
        try:
            request = pb.PlaceOrdersRequest(orders=[r for r, _ in batch])
            try:
                resp = await self._client.call("PlaceOrders", request, deadline=self._deadline)
            except errors.OrderbookUnavailable as exc:
                for _, future in batch:
                    _fail(future, _unavailable(exc))
                return
            except grpc_aio.AioRpcError as exc:
                for _, future in batch:
                    _fail(future, OrderRefused(exc.details() or exc.code().name))
                return
            except BaseException as exc:
                for _, future in batch:
                    _fail(future, exc if isinstance(exc, Exception) else asyncio.CancelledError())
                raise
            for (_, future), result in zip(batch, resp.results, strict=False):
                if future.done():
                    continue
                if result.error:
                    future.set_exception(OrderRefused(result.error))
                else:
                    future.set_result(result.response)
            for _, future in batch[len(resp.results) :]:
                _fail(future, _unavailable(errors.OrderbookUnavailable("no answer for the order")))
        finally:
            self._busy -= 1
            self._pump()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _unavailable(exc: errors.OrderbookUnavailable) -> errors.OrderbookUnavailable:
    """One exception per waiter (an exception raised in several tasks would share and grow
    one traceback), with the same message and cause."""
    copy = errors.OrderbookUnavailable(str(exc))
    copy.__cause__ = exc.__cause__
    return copy


def _fail(future: asyncio.Future[pb.PlaceOrderResponse], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)

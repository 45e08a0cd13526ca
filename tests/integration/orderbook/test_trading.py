"""PlaceOrder / PlaceOrders / CancelOrder / GetOrder over real gRPC, NATS and PostgreSQL."""

from __future__ import annotations

import grpc
import pytest

from em_orderbook import sharding
from em_orderbook.settings import OrderbookSettings
from everything_market.v1 import orderbook_pb2 as pb
from tests.support import orderbook as ob


@pytest.fixture
def config(database_url: str, nats_url: str) -> OrderbookSettings:
    return ob.settings(database_url, nats_url, ob.unique("T"))


async def test_place_cross_and_cancel(config: OrderbookSettings) -> None:
    sym = ob.unique("X")
    async with ob.service(config) as (_, stub):
        ask = await stub.PlaceOrder(ob.limit(sym, 1, "sell", 5200, 10))
        assert ask.status == pb.ORDER_STATUS_OPEN and ask.resting_quantity == 10
        bid = await stub.PlaceOrder(ob.limit(sym, 2, "buy", 5300, 4))
        assert bid.status == pb.ORDER_STATUS_FILLED
        assert bid.filled_quantity == 4 and not bid.duplicate
        [fill] = bid.fills
        assert (fill.price_cents, fill.quantity) == (5200, 4)  # the resting order's price
        assert fill.maker_order_id == ask.order_id and fill.taker_order_id == bid.order_id
        assert (fill.maker_account_id, fill.taker_account_id) == ("1", "2")
        assert fill.taker_side == pb.SIDE_BUY and fill.trade_id

        state = await stub.GetOrder(pb.GetOrderRequest(symbol=sym, order_id=ask.order_id))
        assert state.status == pb.ORDER_STATUS_PARTIALLY_FILLED
        assert (state.quantity, state.filled_quantity, state.account_id) == (10, 4, "1")

        cancelled = await stub.CancelOrder(
            pb.CancelOrderRequest(symbol=sym, order_id=ask.order_id, account_id="1")
        )
        assert cancelled.status == pb.ORDER_STATUS_CANCELLED
        assert cancelled.cancelled_quantity == 6
        snap = await stub.GetSnapshot(pb.GetSnapshotRequest(symbol=sym))
        assert not snap.bids and not snap.asks and snap.last_trade_price_cents == 5200

        with pytest.raises(grpc.aio.AioRpcError) as again:
            await stub.CancelOrder(
                pb.CancelOrderRequest(symbol=sym, order_id=ask.order_id, account_id="1")
            )
        assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "cancelled" in (again.value.details() or "")


async def test_market_order_and_rejections(config: OrderbookSettings) -> None:
    sym = ob.unique("M")
    async with ob.service(config) as (_, stub):
        empty = await stub.PlaceOrder(ob.market(sym, 3, "buy", 5))
        assert empty.status == pb.ORDER_STATUS_REJECTED and not empty.order_id
        assert empty.reject_reason.startswith("no_liquidity")
        await stub.PlaceOrder(ob.limit(sym, 1, "sell", 4000, 3))
        taken = await stub.PlaceOrder(ob.market(sym, 3, "buy", 5))
        assert taken.status == pb.ORDER_STATUS_CANCELLED  # the unfilled rest is cancelled
        assert (taken.filled_quantity, taken.cancelled_quantity) == (3, 2)
        await stub.PlaceOrder(ob.limit(sym, 1, "sell", 4100, 3))
        fok = await stub.PlaceOrder(ob.limit(sym, 4, "buy", 4100, 5, tif=pb.TIME_IN_FORCE_FOK))
        assert fok.status == pb.ORDER_STATUS_REJECTED
        assert fok.reject_reason.startswith("fok_unfillable")


async def test_self_trade_prevention_is_reported(config: OrderbookSettings) -> None:
    sym = ob.unique("S")
    async with ob.service(config) as (_, stub):
        own = await stub.PlaceOrder(ob.limit(sym, 7, "sell", 5000, 5))
        other = await stub.PlaceOrder(ob.limit(sym, 8, "sell", 5000, 5))
        taker = await stub.PlaceOrder(ob.limit(sym, 7, "buy", 5000, 5))
        assert list(taker.self_trade_cancelled_order_ids) == [own.order_id]
        assert [f.maker_order_id for f in taker.fills] == [other.order_id]
        gone = await stub.GetOrder(pb.GetOrderRequest(symbol=sym, order_id=own.order_id))
        assert gone.status == pb.ORDER_STATUS_CANCELLED


async def test_retry_returns_the_original_result(config: OrderbookSettings) -> None:
    sym = ob.unique("I")
    async with ob.service(config) as (run, stub):
        request = ob.limit(sym, 5, "buy", 4500, 10, coid="retry-me")
        first = await stub.PlaceOrder(request)
        changed = ob.limit(sym, 5, "buy", 4600, 99, coid="retry-me")
        second = await stub.PlaceOrder(changed)
        assert second.duplicate and not first.duplicate
        second.duplicate = False
        assert second == first
        snap = await stub.GetSnapshot(pb.GetSnapshotRequest(symbol=sym))
        assert [(lv.price_cents, lv.quantity) for lv in snap.bids] == [(4500, 10)]
        # Concurrent retries of one new order: one order, every answer the same.
        import asyncio

        burst = ob.limit(sym, 6, "buy", 4400, 1, coid="burst")
        answers = await asyncio.gather(*(stub.PlaceOrder(burst) for _ in range(8)))
        assert len({a.order_id for a in answers}) == 1
        assert sum(not a.duplicate for a in answers) == 1
        assert run.service.market.engine.open_orders() == 2


async def test_cancel_checks_owner_and_existence(config: OrderbookSettings) -> None:
    sym = ob.unique("C")
    async with ob.service(config) as (run, stub):
        placed = await stub.PlaceOrder(ob.limit(sym, 1, "buy", 3000, 2))
        cases = [
            ("2", placed.order_id, grpc.StatusCode.PERMISSION_DENIED, "another account"),
            ("1", f"O0-{run.service.ids.epoch}-999", grpc.StatusCode.NOT_FOUND, "not found"),
            ("1", "nonsense", grpc.StatusCode.NOT_FOUND, "not found"),
        ]
        for account, order_id, code, text in cases:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.CancelOrder(
                    pb.CancelOrderRequest(symbol=sym, order_id=order_id, account_id=account)
                )
            assert err.value.code() == code
            assert text in (err.value.details() or "")
        state = await stub.GetOrder(pb.GetOrderRequest(symbol=sym, order_id=placed.order_id))
        assert state.status == pb.ORDER_STATUS_OPEN


_VALID = {
    "symbol": "ABC",
    "account_id": "1",
    "client_order_id": "ok-1",
    "side": pb.SIDE_BUY,
    "type": pb.ORDER_TYPE_LIMIT,
    "price_cents": 5000,
    "quantity": 1,
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("symbol", ""),
        ("symbol", "abc"),
        ("symbol", "A" * 17),
        ("account_id", ""),
        ("account_id", "alice"),
        ("account_id", "0"),
        ("client_order_id", ""),
        ("client_order_id", "has space"),
        ("side", pb.SIDE_UNSPECIFIED),
        ("type", pb.ORDER_TYPE_UNSPECIFIED),
        ("price_cents", 0),
        ("price_cents", 10_000),
        ("quantity", 0),
        ("quantity", 10_001),
        ("time_in_force", 9),
    ],
)
async def test_invalid_fields_are_named_and_change_nothing(
    config: OrderbookSettings, field: str, value: object
) -> None:
    async with ob.service(config) as (run, stub):
        before = run.service.market.seq
        request = pb.PlaceOrderRequest(**_VALID)  # type: ignore[arg-type]
        setattr(request, field, value)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.PlaceOrder(request)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in (err.value.details() or "")
        batch = await stub.PlaceOrders(pb.PlaceOrdersRequest(orders=[request]))
        assert field in batch.results[0].error and not batch.results[0].HasField("response")
        assert run.service.market.seq == before
        assert run.service.market.symbols == {}


async def test_market_order_with_gtc_is_invalid(config: OrderbookSettings) -> None:
    async with ob.service(config) as (_, stub):
        request = ob.market("ABC", 1, "buy", 1)
        request.time_in_force = pb.TIME_IN_FORCE_GTC
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.PlaceOrder(request)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "time_in_force" in (err.value.details() or "")
        for bad in (
            pb.GetSnapshotRequest(symbol="ABC", depth=101),
            pb.GetSnapshotRequest(symbol="a"),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.GetSnapshot(bad)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_batch_placement(config: OrderbookSettings) -> None:
    sym = ob.unique("B")
    async with ob.service(config) as (_, stub):
        orders = [ob.limit(sym, 1, "sell", 6000 + i, 1, coid=f"mm-{i}") for i in range(50)]
        orders.append(ob.limit(sym, 2, "buy", 6010, 5, coid="taker"))
        orders.append(ob.limit(sym, 1, "sell", 0, 1, coid="bad"))
        orders.append(ob.limit(sym, 1, "sell", 6000, 1, coid="mm-0"))  # retry inside the batch
        reply = await stub.PlaceOrders(pb.PlaceOrdersRequest(orders=orders))
        assert len(reply.results) == len(orders)
        assert all(r.response.status == pb.ORDER_STATUS_OPEN for r in reply.results[:50])
        taker = reply.results[50].response
        assert taker.filled_quantity == 5
        assert [f.price_cents for f in taker.fills] == [6000, 6001, 6002, 6003, 6004]
        assert "price_cents" in reply.results[51].error
        retry = reply.results[52].response
        assert retry.duplicate and retry.order_id == reply.results[0].response.order_id
        again = await stub.PlaceOrders(pb.PlaceOrdersRequest(orders=orders[:50]))
        assert all(r.response.duplicate for r in again.results)


async def test_wrong_shard_names_the_owner(database_url: str, nats_url: str) -> None:
    config = ob.settings(
        database_url,
        nats_url,
        ob.unique("W"),
        orderbook_shard_count=3,
        orderbook_shard_index=0,
    )
    foreign = next(s for s in (f"SYM{i}" for i in range(100)) if sharding.owner(s, 3) != 0)
    owner = sharding.owner(foreign, 3)
    async with ob.service(config) as (_, stub):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.PlaceOrder(ob.limit(foreign, 1, "buy", 100, 1))
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"shard {owner} of 3" in (err.value.details() or "")

"""Retries and duplicates: one order per client_order_id, one settlement per trade, all on
the real orderbook (a slow link in front of it makes a client deadline expire after the
order was placed; a matcher without its outputs follower holds the MARKET stream back)."""

from __future__ import annotations

from decimal import Decimal as D

from nats.aio.msg import Msg

from tests.support import orderbook as orderbook_support
from tests.support.trading_stack import Stack, check_invariants, money, running_stack, until


def reserve_txns(stack: Stack, account_id: int) -> int:
    [(count,)] = stack.sql(
        "SELECT count(DISTINCT txn_id) FROM ledger_entries"
        " WHERE account_id = %s AND kind = 'reserve'",
        account_id,
    )
    return int(count)


async def orders_in_book(stack: Stack, account_id: int) -> list[tuple[str, str]]:
    """(client_order_id, status) of the account's orders in the orderbook's own table."""
    await stack.orderbook_settled()
    return stack.sql(
        "SELECT client_order_id, status FROM orders WHERE account_id = %s ORDER BY 1", account_id
    )


def settlements(stack: Stack) -> float:
    """Trades the MARKET consumer handled (settled by it, or found already settled)."""
    metric = stack.runtime.trading.metrics.settlements  # type: ignore[union-attr]
    return float(sum(metric.labels(o)._value.get() for o in ("settled", "duplicate")))


async def test_retry_with_the_same_client_order_id_creates_nothing_new(stack: Stack) -> None:
    await stack.list_symbol("ELON")
    alice = await stack.trader()
    body = {"symbol": "ELON", "side": "buy", "price": "30.00", "quantity": 5}
    body["client_order_id"] = "c-1"
    first = await alice.order(**body)
    again = await alice.order(**body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["order_id"] == first.json()["order_id"]
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert stack.sql("SELECT count(*) FROM order_reservations") == [(1,)]
    assert reserve_txns(stack, alice.account_id) == 1
    assert await orders_in_book(stack, alice.account_id) == [("c-1", "open")]
    portfolio = await alice.get("/api/v1/portfolio")
    assert (portfolio["cash"], portfolio["reserved"]) == ("9850.00", "150.00")

    other = await alice.order(**{**body, "quantity": 6})
    assert other.status_code == 409, other.text
    check_invariants(stack)


async def test_retry_after_a_timeout_finds_the_order_placed_once(
    database_url: str, nats_url: str
) -> None:
    async with running_stack(database_url, nats_url, slow_link=True, order_timeout_ms=300) as stack:
        await stack.list_symbol("ELON")
        alice = await stack.trader()
        assert stack.link is not None
        await stack.client.get("/api/v1/market/ELON/snapshot")  # the channel is connected
        stack.link.hold()  # the orderbook places the order; its answer is late
        body = {"symbol": "ELON", "side": "sell", "price": "60.00", "quantity": 2}
        body["client_order_id"] = "t-1"
        timed_out = await alice.order(**body)
        assert timed_out.status_code == 503, timed_out.text
        assert "same client_order_id" in timed_out.json()["detail"]
        assert timed_out.headers["Retry-After"]
        # The funds stay reserved while the outcome is unknown.
        pending = [("pending", D("80.00"))]
        assert stack.sql("SELECT status, reserved FROM order_reservations") == pending

        stack.link.release()
        retried = await alice.order(**body)
        assert retried.status_code == 201, retried.text
        assert (retried.json()["status"], retried.json()["duplicate"]) == ("open", True)
        assert await orders_in_book(stack, alice.account_id) == [("t-1", "open")]
        opened = [("open", D("80.00"))]
        assert stack.sql("SELECT status, reserved FROM order_reservations") == opened
        assert reserve_txns(stack, alice.account_id) == 1
        check_invariants(stack)


async def test_timeout_on_an_order_that_traded_settles_it_once(
    database_url: str, nats_url: str
) -> None:
    """The trade reaches the MARKET stream before the backend knows the order's id: the
    stream's copy waits (redelivered) until the retry's answer links and settles it."""
    async with running_stack(database_url, nats_url, slow_link=True, order_timeout_ms=300) as stack:
        await stack.list_symbol("ELON")
        alice, bob = await stack.trader(), await stack.trader()
        assert stack.link is not None
        resting = await bob.order(symbol="ELON", side="sell", price="60.00", quantity=2)
        assert resting.status_code == 201, resting.text
        stack.link.hold()
        body = {"symbol": "ELON", "side": "buy", "price": "65.00", "quantity": 3}
        body["client_order_id"] = "x-1"
        timed_out = await alice.order(**body)
        assert timed_out.status_code == 503, timed_out.text
        await until(lambda: stack.sql("SELECT count(*) FROM trades") == [(1,)], 10, "the trade")
        metric = stack.runtime.trading.metrics.settlements  # type: ignore[union-attr]
        await until(lambda: metric.labels("not_linked")._value.get() >= 1, 10, "the stream copy")
        assert stack.sql("SELECT count(*) FROM settled_trades") == [(0,)]

        stack.link.release()
        retried = await alice.order(**body)
        assert retried.status_code == 201, retried.text
        got = retried.json()
        assert (got["status"], got["duplicate"], got["reserved"]) == (
            "partially_filled",
            True,
            "65.00",
        )
        assert [(f["price"], f["quantity"]) for f in got["fills"]] == [("60.00", 2)]
        await stack.settled(1)
        await until(lambda: metric.labels("duplicate")._value.get() == 1, 10, "the redelivery")
        assert stack.sql("SELECT count(*) FROM settled_trades") == [(1,)]
        # 3 x 65.00 reserved; 2 filled at 60.00 (10.00 of price improvement back), 1 rests.
        alice_now = await alice.get("/api/v1/portfolio")
        assert (alice_now["cash"], alice_now["reserved"]) == ("9815.00", "65.00")
        assert [(p["quantity"], p["cost_basis"]) for p in alice_now["positions"]] == [(2, "120.00")]
        bob_now = await bob.get("/api/v1/portfolio")
        assert (bob_now["cash"], bob_now["collateral"]) == ("10040.00", "80.00")
        # The redelivered copy also repriced: 0.6 * 60 + 0.4 * 50.
        final = (await stack.client.get("/api/v1/stocks/ELON/final")).json()
        assert (final["market_price"], final["final_price"]) == ("60.00", "56.00")
        check_invariants(stack)


async def test_reconciler_resolves_an_order_nobody_retried(
    database_url: str, nats_url: str
) -> None:
    async with running_stack(
        database_url,
        nats_url,
        slow_link=True,
        order_timeout_ms=300,
        pending_order_grace_seconds=1.0,
    ) as stack:
        await stack.list_symbol("ELON")
        alice = await stack.trader()
        assert stack.link is not None
        await stack.client.get("/api/v1/market/ELON/snapshot")  # the channel is connected
        stack.link.hold()
        resp = await alice.order(symbol="ELON", side="buy", price="10.00", quantity=1)
        assert resp.status_code == 503
        assert stack.sql("SELECT status FROM order_reservations") == [("pending",)]
        stack.link.release()
        await until(
            lambda: stack.sql("SELECT status FROM order_reservations") == [("open",)],
            10,
            "the reconciler to record the answer",
        )
        [(coid, status)] = await orders_in_book(stack, alice.account_id)
        assert status == "open"
        assert stack.sql("SELECT client_order_id FROM order_reservations") == [(coid,)]
        check_invariants(stack)


async def test_a_trade_delivered_twice_settles_once(stack: Stack) -> None:
    await stack.list_symbol("ELON")
    alice, bob = await stack.trader(), await stack.trader()
    captured: list[bytes] = []

    async def keep(msg: Msg) -> None:
        captured.append(msg.data)

    sub = await stack.nc.subscribe("market.ELON.trades", cb=keep)

    await alice.order(symbol="ELON", side="buy", price="55.00", quantity=3)
    resp = await bob.order(symbol="ELON", side="sell", price="50.00", quantity=3)
    assert [(f["price"], f["quantity"]) for f in resp.json()["fills"]] == [("55.00", 3)]
    await stack.settled(1)
    await until(lambda: len(captured) == 1, 5, "the trade on the wire")
    await until(lambda: settlements(stack) == 1, 10, "the stream's copy to be consumed")
    settled = await alice.get("/api/v1/portfolio"), await bob.get("/api/v1/portfolio")

    # The same trade again, past the stream's de-duplication (a new Nats-Msg-Id).
    js = stack.nc.jetstream()
    await js.publish("market.ELON.trades", captured[0], headers={"Nats-Msg-Id": "replay-1"})
    await until(lambda: settlements(stack) == 2, 10, "the replay to be consumed")
    again = await alice.get("/api/v1/portfolio"), await bob.get("/api/v1/portfolio")
    assert again == settled
    assert stack.sql("SELECT count(*) FROM settled_trades") == [(1,)]
    assert money(settled[0]["positions"][0]["average_cost"]) == D("55.00")
    assert settled[1]["positions"][0]["quantity"] == -3
    await sub.unsubscribe()
    check_invariants(stack)


async def test_answer_and_stream_settle_the_same_trade_once(
    database_url: str, nats_url: str
) -> None:
    # The matcher alone: its outputs follower (the MARKET stream) starts when the test says.
    external = {"orderbook_outputs": "external"}
    async with running_stack(database_url, nats_url, orderbook_settings=external) as stack:
        await stack.list_symbol("ELON")
        alice, bob = await stack.trader(), await stack.trader()
        await alice.order(symbol="ELON", side="sell", price="70.00", quantity=2)
        resp = await bob.order(symbol="ELON", side="buy", price="70.00", quantity=2)
        assert resp.json()["status"] == "filled"
        await stack.settled(1)  # settled from the PlaceOrder answer
        assert settlements(stack) == 0
        assert stack.orderbook is not None
        async with orderbook_support.outputs(stack.orderbook.service.settings):
            await until(lambda: settlements(stack) == 1, 10, "the stream copy")
        metric = stack.runtime.trading.metrics.settlements  # type: ignore[union-attr]
        assert metric.labels("duplicate")._value.get() == 1
        assert stack.sql("SELECT count(*) FROM settled_trades") == [(1,)]
        check_invariants(stack)


async def test_an_answer_lost_with_its_relaxed_commit_is_recorded_again(
    database_url: str, nats_url: str
) -> None:
    """Recording a resting order's answer commits without waiting for the disk: a database
    crash may lose it. What it leaves is exactly this row state; the reconciler must bring
    back what the trader was told, with no second order or reservation."""
    async with running_stack(database_url, nats_url, pending_order_grace_seconds=1.0) as stack:
        await stack.list_symbol("ELON")
        alice = await stack.trader()
        resp = await alice.order(symbol="ELON", side="buy", price="10.00", quantity=2)
        assert resp.status_code == 201, resp.text
        told = resp.json()
        assert told["status"] == "open"
        stack.sql(
            "UPDATE order_reservations SET status = 'pending', order_id = NULL"
            " WHERE order_id = %s RETURNING id",
            told["order_id"],
        )
        await until(
            lambda: (
                stack.sql("SELECT order_id, status FROM order_reservations")
                == [(told["order_id"], "open")]
            ),
            10,
            "the reconciler to record the answer again",
        )
        got = await alice.client.get(f"/api/v1/orders/{told['order_id']}", headers=alice.headers)
        assert got.status_code == 200 and got.json()["status"] == "open"
        assert reserve_txns(stack, alice.account_id) == 1
        [(_, status)] = await orders_in_book(stack, alice.account_id)
        assert status == "open"
        check_invariants(stack)

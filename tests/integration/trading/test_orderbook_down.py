"""Orderbook down (never there: a closed port; or the real service stopping mid-session):
order endpoints answer 503 with a clear message and reserve nothing; every read keeps
answering."""

from __future__ import annotations

import httpx

from tests.support import orderbook as orderbook_support
from tests.support.trading_stack import Stack, check_invariants, running_stack, until


async def test_orders_503_reads_200_when_the_orderbook_is_down(
    database_url: str, nats_url: str
) -> None:
    async with running_stack(database_url, nats_url, orderbook="down") as stack:
        await stack.list_symbol("ELON")
        alice = await stack.trader()
        for _ in range(5):  # the first calls fail on the wire, later ones on the open breaker
            resp = await alice.order(symbol="ELON", side="buy", price="10.00", quantity=1)
            assert resp.status_code == 503, resp.text
            assert "orderbook is unavailable" in resp.json()["detail"]
            assert "nothing was placed" in resp.json()["detail"]
            assert resp.headers["Retry-After"]
        assert stack.sql("SELECT count(*) FROM order_reservations") == [(0,)]

        for path in ("/api/v1/portfolio", "/api/v1/orders", "/api/v1/trades", "/api/v1/me"):
            await alice.get(path)
        for path in (
            "/api/v1/stocks",
            "/api/v1/stocks/ELON/final",
            "/api/v1/market/ELON/pressure",
            "/api/v1/market/ELON/trades",
            "/health",
        ):
            resp = await stack.client.get(path)
            assert resp.status_code == 200, (path, resp.text)
        assert (await stack.client.get("/api/v1/market/ELON/pressure")).json()["stale"] is True
        assert (await alice.get("/api/v1/portfolio"))["cash"] == "10000.00"
        check_invariants(stack)


async def test_orderbook_stopping_mid_session(stack: Stack) -> None:
    await stack.list_symbol("ELON")
    alice = await stack.trader()
    resting = await alice.order(symbol="ELON", side="sell", price="80.00", quantity=1)
    assert resting.status_code == 201
    await stack.stop_orderbook()  # drains and stops, as on SIGTERM
    resp = await alice.order(symbol="ELON", side="buy", price="10.00", quantity=1)
    assert resp.status_code == 503, resp.text
    cancel = await stack.client.delete(
        f"/api/v1/orders/{resting.json()['order_id']}", headers=alice.headers
    )
    assert cancel.status_code == 503
    portfolio = await alice.get("/api/v1/portfolio")
    assert (portfolio["cash"], portfolio["reserved"]) == ("9980.00", "20.00")
    check_invariants(stack)


async def test_orderbook_restart_keeps_the_book_and_trading_resumes(
    database_url: str, nats_url: str
) -> None:
    async with running_stack(
        database_url, nats_url, orderbook="down", orderbook_breaker_reset_seconds=0.2
    ) as stack:
        # The orderbook comes and goes on the address the backend was given.
        port = int(stack.settings.orderbook_addr.rpartition(":")[2])
        journal = orderbook_support.unique("J")
        config = orderbook_support.settings(
            database_url, nats_url, journal, orderbook_grpc_port=port
        )
        await stack.list_symbol("ELON")
        alice, bob = await stack.trader(), await stack.trader()
        async with orderbook_support.served(config):
            resting = await alice.order(symbol="ELON", side="sell", price="60.00", quantity=3)
            assert resting.status_code == 201, resting.text
        for _ in range(3):
            down = await bob.order(symbol="ELON", side="buy", price="60.00", quantity=2)
            assert down.status_code == 503, down.text

        # Back, recovered from its journal: Alice's order still rests and Bob's takes it, as
        # soon as the backend has reconnected (503 and nothing placed until then).
        async with orderbook_support.served(config):
            answers: list[httpx.Response] = []

            async def placed() -> bool:
                answers.append(
                    await bob.order(symbol="ELON", side="buy", price="60.00", quantity=2)
                )
                return answers[-1].status_code != 503

            await until(placed, 10, "the backend to reach the orderbook again")
            taken = answers[-1]
            assert taken.status_code == 201, taken.text
            assert [(f["price"], f["quantity"]) for f in taken.json()["fills"]] == [("60.00", 2)]
            await stack.settled(1)
            await until(lambda: stack.sql("SELECT count(*) FROM trades") == [(1,)], 10, "trades")
        await orderbook_support.forget_journal(stack.nc, journal)
        orders = (await alice.get("/api/v1/orders"))["data"]
        assert [(o["status"], o["filled_quantity"]) for o in orders] == [("partially_filled", 2)]
        positions = (await bob.get("/api/v1/portfolio"))["positions"]
        assert [(p["symbol"], p["quantity"]) for p in positions] == [("ELON", 2)]
        check_invariants(stack)

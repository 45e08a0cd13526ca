"""Orderbook down (never there: a closed port; or the real service stopping mid-session):
order endpoints answer 503 with a clear message and reserve nothing; every read keeps
answering."""

from __future__ import annotations

from tests.support.trading_stack import Stack, check_invariants, running_stack


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

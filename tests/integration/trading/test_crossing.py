"""Two traders cross: reservations, fills, settlement, portfolio and P&L to the cent."""

from __future__ import annotations

from decimal import Decimal as D

from tests.support.trading_stack import Stack, Trader, check_invariants, money


async def balances(trader: Trader) -> tuple[D, D, D]:
    p = await trader.get("/api/v1/portfolio")
    return money(p["cash"]), money(p["reserved"]), money(p["collateral"])


async def test_two_traders_cross_and_settle_exactly(stack: Stack) -> None:
    await stack.list_symbol("ELON")
    alice, bob = await stack.trader("alice"), await stack.trader("bob")
    assert await balances(alice) == (D("10000.00"), D("0.00"), D("0.00"))

    resp = await alice.order(symbol="ELON", side="buy", type="limit", price="42.50", quantity=10)
    assert resp.status_code == 201, resp.text
    bid = resp.json()
    assert (bid["status"], bid["reserved"], bid["fills"]) == ("open", "425.00", [])
    assert await balances(alice) == (D("9575.00"), D("425.00"), D("0.00"))

    # Bob has nothing: selling 4 is a short that reserves (100 - 40) x 4 = 240, then
    # fills at the resting 42.50 and posts (100 - 42.50) x 4 = 230 of collateral.
    resp = await bob.order(symbol="ELON", side="sell", type="limit", price="40.00", quantity=4)
    assert resp.status_code == 201, resp.text
    ask = resp.json()
    assert ask["status"] == "filled"
    assert [(f["price"], f["quantity"], f["liquidity"]) for f in ask["fills"]] == [
        ("42.50", 4, "taker")
    ]
    await stack.settled(1)
    assert await balances(bob) == (D("9940.00"), D("0.00"), D("230.00"))
    assert await balances(alice) == (D("9575.00"), D("255.00"), D("0.00"))

    orders = (await alice.get("/api/v1/orders"))["data"]
    assert [(o["status"], o["filled_quantity"], o["remaining_quantity"]) for o in orders] == [
        ("partially_filled", 4, 6)
    ]
    assert orders[0]["average_fill_price"] == "42.50"
    fills = (await bob.get("/api/v1/trades"))["data"]
    assert [(f["side"], f["price"], f["quantity"], f["liquidity"]) for f in fills] == [
        ("sell", "42.50", 4, "taker")
    ]

    # Price improvement for a buyer: a resting ask at 41.00 takes Alice's 45.00 bid.
    carol = await stack.trader("carol")
    resp = await carol.order(symbol="ELON", side="sell", type="limit", price="41.00", quantity=3)
    assert resp.json()["status"] == "filled"  # hits Alice's 42.50 bid first
    await stack.settled(2)
    resp = await carol.order(symbol="ELON", side="sell", type="limit", price="44.00", quantity=2)
    assert resp.json()["status"] == "open"
    resp = await bob.order(symbol="ELON", side="buy", type="limit", price="45.00", quantity=3)
    assert resp.status_code == 201, resp.text
    covered = resp.json()
    # 3 wanted, 2 at 44.00 from Carol; the rest rests at 45.00 (above Alice's 42.50 bid).
    assert [(f["price"], f["quantity"]) for f in covered["fills"]] == [("44.00", 2)]
    await stack.settled(3)

    # Bob: short 4 @ 42.50, covered 2 @ 44.00 (collateral 115 back), 1 unit bid at 45.00.
    cash, reserved, collateral = await balances(bob)
    assert (reserved, collateral) == (D("45.00"), D("115.00"))
    assert cash == D("9940.00") - D("88.00") + D("115.00") - D("45.00")
    # Carol: short 3 @ 42.50 (she asked 41.00: 3 x 1.50 released), short 2 more @ 44.00.
    cash, reserved, collateral = await balances(carol)
    assert (reserved, collateral) == (D("0.00"), D("172.50") + D("112.00"))
    assert cash == D("10000.00") + D("127.50") + D("88.00") - D("172.50") - D("112.00")

    portfolio = await alice.get("/api/v1/portfolio")
    final = money((await stack.client.get("/api/v1/stocks/ELON/final")).json()["final_price"])
    [position] = portfolio["positions"]
    assert (position["symbol"], position["quantity"]) == ("ELON", 7)
    assert money(position["average_cost"]) == D("42.50")
    assert money(position["mark_price"]) == final
    assert money(position["unrealized_pnl"]) == (final * 7 - D("297.50")).quantize(D("0.01"))
    assert money(portfolio["equity"]) == (
        money(portfolio["cash"]) + money(portfolio["reserved"]) + final * 7
    ).quantize(D("0.01"))

    [short] = (await carol.get("/api/v1/portfolio"))["positions"]
    assert (short["quantity"], short["cost_basis"], short["collateral"]) == (-5, "215.50", "284.50")
    assert money(short["unrealized_pnl"]) == (D("215.50") - final * 5).quantize(D("0.01"))
    check_invariants(stack)

"""Random orders and cancels from three traders through the whole stack (the real
orderbook): after each sequence, money is conserved (cash + reserved + collateral sums to
what was issued), nothing is negative, positions per symbol sum to zero, every balance
equals its ledger, and every trader holds exactly what the orderbook's own trade records
say they traded."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.trading_stack import Stack, Trader, check_invariants

SYMBOLS = ("AAA", "BBB")
PRICES = ("1.00", "45.00", "48.50", "49.99", "50.00", "50.01", "52.00", "55.00", "99.99")

place = st.fixed_dictionaries(
    {
        "who": st.integers(0, 2),
        "symbol": st.sampled_from(SYMBOLS),
        "side": st.sampled_from(["buy", "sell"]),
        "type": st.sampled_from(["limit", "limit", "limit", "market"]),
        "tif": st.sampled_from(["GTC", "GTC", "GTC", "IOC", "FOK"]),
        "price": st.sampled_from(PRICES),
        "quantity": st.integers(1, 15),
    }
)
cancel = st.fixed_dictionaries({"who": st.integers(0, 2), "pick": st.integers(0, 99)})
steps = st.lists(st.one_of(place, place, place, place, cancel), min_size=10, max_size=30)


async def run(stack: Stack, traders: list[Trader], step: dict[str, Any]) -> None:
    trader = traders[step["who"]]
    if "pick" in step:
        open_orders = (await trader.get("/api/v1/orders", status="open"))["data"]
        acked = [o for o in open_orders if o["order_id"]]
        if acked:
            order_id = acked[step["pick"] % len(acked)]["order_id"]
            resp = await stack.client.delete(f"/api/v1/orders/{order_id}", headers=trader.headers)
            assert resp.status_code in (200, 409), resp.text
        return
    body: dict[str, Any] = {
        "symbol": step["symbol"],
        "side": step["side"],
        "type": step["type"],
        "quantity": step["quantity"],
    }
    if step["type"] == "limit":
        body |= {"price": step["price"], "time_in_force": step["tif"]}
    elif step["tif"] != "GTC":
        body["time_in_force"] = step["tif"]
    resp = await trader.order(**body)
    assert resp.status_code in (201, 422), resp.text
    if resp.status_code == 422:
        assert "insufficient funds" in resp.json()["detail"]


def book_positions(stack: Stack) -> dict[tuple[int, str], int]:
    """Net quantity per (account, symbol) from the orderbook's `trades` table."""
    rows = stack.sql(
        """
        SELECT account, symbol, sum(signed) FROM (
            SELECT CASE WHEN taker_side = 'buy' THEN taker_account_id ELSE maker_account_id END,
                   symbol, qty FROM trades
            UNION ALL
            SELECT CASE WHEN taker_side = 'buy' THEN maker_account_id ELSE taker_account_id END,
                   symbol, -qty FROM trades
        ) AS legs(account, symbol, signed)
        GROUP BY 1, 2 HAVING sum(signed) <> 0
        """
    )
    return {(int(a), s): int(q) for a, s, q in rows}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
async def test_invariants_hold_after_random_orders_and_cancels(
    stack: Stack, sequence: list[dict[str, Any]]
) -> None:
    if not stack.traders:
        for symbol in SYMBOLS:
            await stack.list_symbol(symbol)
        for _ in range(3):
            await stack.trader()
    for step in sequence:
        await run(stack, stack.traders, step)
    await stack.orderbook_settled()
    check_invariants(stack)
    positions = stack.sql("SELECT account_id, symbol, quantity FROM positions WHERE quantity <> 0")
    assert {(a, s): q for a, s, q in positions} == book_positions(stack)
    # Nothing stays reserved for an order the book no longer holds.
    held = stack.sql(
        "SELECT o.order_id, o.status, r.reserved FROM orders o"
        " JOIN order_reservations r ON r.order_id = o.order_id"
        " WHERE o.status NOT IN ('open', 'partially_filled') AND r.reserved <> 0"
    )
    assert held == []
    # The backend's view of every order agrees with the book's: same fills, same state.
    disagree = stack.sql(
        "SELECT r.order_id, r.status, r.filled_qty, o.status, o.filled_qty"
        " FROM order_reservations r LEFT JOIN orders o ON o.order_id = r.order_id"
        " WHERE r.order_id IS NOT NULL AND (o.order_id IS NULL"
        "  OR r.filled_qty <> o.filled_qty"
        "  OR r.status <> CASE o.status WHEN 'partially_filled' THEN 'open' ELSE o.status END)"
    )
    assert disagree == []

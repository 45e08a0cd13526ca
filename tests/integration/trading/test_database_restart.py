"""The database drops every connection (what a restart or failover does): the next order
still goes through, on new connections, and reads come back at once."""

from __future__ import annotations

from tests.support.trading_stack import Stack, check_invariants


async def test_orders_go_through_right_after_the_database_drops_every_connection(
    stack: Stack,
) -> None:
    await stack.list_symbol("ELON")
    alice = await stack.trader()
    first = await alice.order(symbol="ELON", side="buy", price="10.00", quantity=1)
    assert first.status_code == 201, first.text  # the order path's pools hold connections now

    dropped = stack.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    assert dropped and all(ok for (ok,) in dropped)

    second = await alice.order(symbol="ELON", side="buy", price="11.00", quantity=1)
    assert second.status_code == 201, second.text
    assert second.json()["status"] == "open"
    # A read on a connection that died answers 503 with Retry-After at worst, once.
    statuses = [
        (await alice.client.get("/api/v1/orders", headers=alice.headers)).status_code
        for _ in range(3)
    ]
    assert statuses[1:] == [200, 200] and statuses[0] in (200, 503)
    orders = await alice.get("/api/v1/orders")
    assert sorted(o["price"] for o in orders["data"]) == ["10.00", "11.00"]
    check_invariants(stack)

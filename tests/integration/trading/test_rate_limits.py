"""Rate limits: sign-in attempts per client address, orders per account; 429 + Retry-After."""

from __future__ import annotations

from tests.support.trading_stack import PASSWORD, running_stack


async def test_login_attempts_and_orders_are_limited(database_url: str, nats_url: str) -> None:
    async with running_stack(
        database_url,
        nats_url,
        auth_burst=4,
        auth_rate_per_minute=1.0,
        order_burst=3,
        order_rate_per_second=0.1,
    ) as stack:
        await stack.list_symbol("ELON")
        alice = await stack.trader()  # one registration + one login: 2 of 4
        bob = await stack.trader()  # 4 of 4
        resp = await stack.client.post(
            "/api/v1/auth/login", json={"username": alice.username, "password": PASSWORD}
        )
        assert resp.status_code == 429
        assert int(resp.headers["Retry-After"]) >= 1
        resp = await stack.client.post(
            "/api/v1/auth/register", json={"username": "carol", "password": PASSWORD}
        )
        assert resp.status_code == 429

        statuses = [
            (await alice.order(symbol="ELON", side="buy", price="1.00", quantity=1)).status_code
            for _ in range(4)
        ]
        assert statuses == [201, 201, 201, 429]
        limited = await alice.order(symbol="ELON", side="buy", price="1.00", quantity=1)
        assert int(limited.headers["Retry-After"]) >= 1
        # Per account: Bob still has his own budget.
        other = await bob.order(symbol="ELON", side="buy", price="1.00", quantity=1)
        assert other.status_code == 201
        # Reads are not limited.
        for _ in range(5):
            await alice.get("/api/v1/orders")

"""Trader auth: registration, both login shapes, and every way a token can be wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from em_backend import security
from tests.support.trading_stack import JWT_SECRET, PASSWORD, Stack, check_invariants

PRIVATE = ("/api/v1/me", "/api/v1/orders", "/api/v1/portfolio", "/api/v1/trades")


async def test_new_trader_gets_the_starting_cash_from_the_issuer(stack: Stack) -> None:
    alice = await stack.trader("alice")
    me = await alice.get("/api/v1/me")
    assert (me["username"], me["account_id"]) == ("alice", alice.account_id)
    portfolio = await alice.get("/api/v1/portfolio")
    assert (portfolio["cash"], portfolio["equity"], portfolio["positions"]) == (
        "10000.00",
        "10000.00",
        [],
    )
    [(issuer_cash,)] = stack.sql("SELECT cash FROM accounts WHERE system_key = 'issuer'")
    assert issuer_cash == -10000
    check_invariants(stack)
    again = await stack.client.post(
        "/api/v1/auth/register", json={"username": "alice", "password": PASSWORD}
    )
    assert again.status_code == 409


async def test_oauth2_password_form_logs_in_too(stack: Stack) -> None:
    await stack.trader("bob")
    resp = await stack.client.post(
        "/api/v1/auth/login",
        data={"grant_type": "password", "username": "bob", "password": PASSWORD},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == stack.settings.jwt_expire_minutes * 60
    me = await stack.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["username"] == "bob"
    wrong = await stack.client.post(
        "/api/v1/auth/login", data={"username": "bob", "password": "not the password"}
    )
    assert wrong.status_code == 401
    unknown = await stack.client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD}
    )
    assert unknown.status_code == 401


async def test_missing_expired_and_forged_tokens_get_401(stack: Stack) -> None:
    alice = await stack.trader()
    now = datetime.now(UTC)
    expired, _ = security.issue(
        JWT_SECRET,
        user_id=1,
        username=alice.username,
        account_id=alice.account_id,
        ttl=timedelta(seconds=1),
        now=now - timedelta(hours=1),
    )
    forged = jwt.encode(
        {
            "sub": "1",
            "name": "x",
            "acct": alice.account_id,
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(hours=1)).timestamp()),
        },
        "another-secret-0123456789abcdef0123456789abcdef",
        algorithm="HS256",
    )
    unsigned = jwt.encode({"sub": "1", "acct": alice.account_id}, "", algorithm="none")
    for headers in (
        {},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": f"Bearer {unsigned}"},
        {"Authorization": "Bearer not-a-jwt"},
    ):
        for path in PRIVATE:
            resp = await stack.client.get(path, headers=headers)
            assert resp.status_code == 401, (path, headers, resp.text)
            assert resp.headers["WWW-Authenticate"] == "Bearer"
        resp = await stack.client.post(
            "/api/v1/orders",
            json={"symbol": "ELON", "side": "buy", "price": "1.00", "quantity": 1},
            headers=headers,
        )
        assert resp.status_code == 401


async def test_traders_cannot_see_or_cancel_each_others_orders(stack: Stack) -> None:
    await stack.list_symbol("ELON")
    alice, mallory = await stack.trader(), await stack.trader()
    placed = (await alice.order(symbol="ELON", side="buy", price="20.00", quantity=2)).json()
    order_id = placed["order_id"]

    assert (await mallory.get("/api/v1/orders"))["data"] == []
    peek = await stack.client.get(f"/api/v1/orders/{order_id}", headers=mallory.headers)
    assert peek.status_code == 404
    cancel = await stack.client.delete(f"/api/v1/orders/{order_id}", headers=mallory.headers)
    assert cancel.status_code == 404
    assert stack.sql("SELECT status FROM order_reservations") == [("open",)]

    own = await stack.client.delete(f"/api/v1/orders/{order_id}", headers=alice.headers)
    assert own.status_code == 200, own.text
    assert (own.json()["status"], own.json()["reserved"]) == ("cancelled", "0.00")
    assert (await alice.get("/api/v1/portfolio"))["cash"] == "10000.00"
    twice = await stack.client.delete(f"/api/v1/orders/{order_id}", headers=alice.headers)
    assert (twice.status_code, twice.json()["status"]) == (200, "cancelled")
    check_invariants(stack)

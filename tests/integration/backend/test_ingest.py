"""Reality ingest over JetStream and HTTP: applied once, refused cleanly, nothing leaked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from nats.aio.client import Client
from websockets.asyncio.client import connect

from em_common import contracts
from tests.integration.backend import helpers
from tests.integration.backend.helpers import (
    event,
    eventually,
    list_elon_tsla_and_tech,
    list_symbol,
    signed,
)
from tests.support.backend_server import RunningBackend


async def publish(bus: Client, payload: dict[str, Any], signature: str | None = None) -> None:
    body, good = signed(payload)
    headers = {"Nats-Msg-Id": payload["event_id"], "X-Signature": signature or good}
    await bus.jetstream().publish(contracts.REALITY_SUBJECT, body, headers=headers)


async def final(http: httpx.AsyncClient, symbol: str) -> dict[str, Any]:
    result: dict[str, Any] = (await http.get(f"/api/v1/stocks/{symbol}/final")).json()
    return result


async def consumer_acked(backend: RunningBackend, bus: Client, n: int) -> None:
    """Wait until the reality consumer has acked `n` messages (applied or refused)."""

    async def acked() -> int:
        info = await bus.jetstream().consumer_info("REALITY", "backend-reality")
        return int(info.ack_floor.stream_seq)

    await eventually(acked, lambda seq: seq >= n)


async def test_signed_event_over_nats_moves_score_once(
    backend: RunningBackend,
    http: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    bus: Client,
    database_url: str,
) -> None:
    await list_elon_tsla_and_tech(admin)
    async with connect(f"{backend.ws_url}/ws/updates") as ws:
        await ws.send(json.dumps({"action": "subscribe", "symbols": ["ELON"]}))
        assert json.loads(await ws.recv())["type"] == "subscribed"
        payload = event(
            ["ELON"],
            "7.25",
            llm_calls=[{"model": "m", "input_hash": "h", "latency_ms": 12, "outcome": "used"}],
        )
        await publish(bus, payload)
        got = await eventually(lambda: final(http, "ELON"), lambda f: f["reality_score"] != "50.00")
        assert got["reality_score"] == "57.25"
        assert got["final_price"] == "57.25"  # never traded: Reality alone
        seen: dict[str, dict[str, Any]] = {}
        while not {"reality_update", "final_update"} <= seen.keys():
            message = json.loads(await ws.recv())
            seen.setdefault(message["type"], message)
        assert seen["reality_update"]["symbol"] == "ELON"
        assert seen["reality_update"]["reality_score"] == "57.25"
        assert seen["final_update"]["final_price"] == "57.25"

    index = await final(http, "TECH")
    assert index["reality_score"] == "48.63"  # (57.25 + 40) / 2, half-up
    changes = await helpers.rows(
        database_url,
        "SELECT symbol, old_score, new_score, delta, source FROM score_changes ORDER BY symbol",
    )
    assert [(r[0], str(r[1]), str(r[2]), str(r[3]), r[4]) for r in changes] == [
        ("ELON", "50.00", "57.25", "7.25", "wire-a"),
        ("TECH", "45.00", "48.63", "3.63", "wire-a"),
    ]
    stored = await helpers.rows(database_url, "SELECT final_price FROM scores WHERE symbol='ELON'")
    assert str(stored[0][0]) == "57.25"
    calls = await helpers.rows(database_url, "SELECT model, output IS NULL, valid FROM llm_calls")
    assert calls == [("m", True, True)]
    before = await helpers.table_counts(database_url)

    # The same event again, past JetStream's own dedupe (new Msg-Id): nothing changes.
    body, sig = signed(payload)
    await bus.jetstream().publish(
        contracts.REALITY_SUBJECT, body, headers={"Nats-Msg-Id": "other-id", "X-Signature": sig}
    )
    await consumer_acked(backend, bus, 2)
    assert await helpers.table_counts(database_url) == before
    assert (await final(http, "ELON"))["reality_score"] == "57.25"


async def test_refused_events_write_nothing(
    backend: RunningBackend,
    http: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    bus: Client,
    database_url: str,
) -> None:
    await list_symbol(admin, "ELON")
    before = await helpers.table_counts(database_url)
    stale = datetime.now(UTC) - timedelta(minutes=11)
    _, wrong_sig = signed(event(["ELON"], "1"), secret="not-the-secret")
    await publish(bus, event(["ELON"], "3"), signature=wrong_sig)  # bad signature
    await publish(bus, event(["ELON"], "3", at=stale))  # stale timestamp
    await publish(bus, event(["NOPE"], "3"))  # unknown symbol
    await bus.jetstream().publish(contracts.REALITY_SUBJECT, b"{}", headers={"X-Signature": "x"})
    await publish(bus, {**event(["ELON"], "3"), "summary": "nul \x00 inside"})  # unstorable
    await consumer_acked(backend, bus, 5)
    assert await helpers.table_counts(database_url) == before
    assert (await final(http, "ELON"))["reality_score"] == "50.00"
    metrics = (await http.get("/metrics")).text
    for reason in ("bad_signature", "stale_timestamp", "unknown_symbol", "invalid_payload"):
        assert f'outcome="rejected",reason="{reason}",via="nats"' in metrics
    assert "test-reality-secret" not in metrics


async def test_http_ingest_shares_the_checks(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient, database_url: str
) -> None:
    await list_symbol(admin, "ELON")
    payload = event(["ELON"], "-4.5")
    body, sig = signed(payload)
    missing = await http.post("/api/v1/reality/ingest", content=body)
    assert missing.status_code == 401
    stale_body, stale_sig = signed(
        event(["ELON"], "1", at=datetime.now(UTC) + timedelta(minutes=11))
    )
    stale = await http.post(
        "/api/v1/reality/ingest", content=stale_body, headers={"X-SIGNATURE": stale_sig}
    )
    assert stale.status_code == 400
    unknown_body, unknown_sig = signed(event(["ELON", "NOPE"], "1"))
    unknown = await http.post(
        "/api/v1/reality/ingest", content=unknown_body, headers={"X-SIGNATURE": unknown_sig}
    )
    assert unknown.status_code == 422
    assert await helpers.count(database_url, "events") == 0

    ok = await http.post("/api/v1/reality/ingest", content=body, headers={"X-SIGNATURE": sig})
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "applied"
    assert ok.json()["changes"] == [
        {"symbol": "ELON", "old_score": "50.00", "new_score": "45.50", "delta": "-4.50"}
    ]
    # A client that re-serialised the JSON (spaces, key order) still verifies.
    pretty = json.dumps(payload, indent=2).encode()
    again = await http.post("/api/v1/reality/ingest", content=pretty, headers={"X-SIGNATURE": sig})
    assert again.json()["status"] == "duplicate"
    assert (await final(http, "ELON"))["reality_score"] == "45.50"


async def test_a_burst_is_applied_in_order_each_event_seeing_the_ones_before(
    backend: RunningBackend,
    http: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    bus: Client,
    database_url: str,
) -> None:
    await list_symbol(admin, "ELON")
    await list_symbol(admin, "TSLA")
    js = bus.jetstream()
    burst = [event(["ELON", "TSLA"], "0.25", source=f"wire-{i % 5}") for i in range(40)]
    burst.append(burst[3])  # a duplicate inside the burst
    # one source then pushes ELON alone: once it holds > 35 % of > 15 points, it is held
    burst += [event(["ELON"], "2", source="pusher") for _ in range(4)]
    for payload in burst:
        body, sig = signed(payload)
        await js.publish(contracts.REALITY_SUBJECT, body, headers={"X-Signature": sig})
    await consumer_acked(backend, bus, len(burst))
    # 40 x 0.25 = 10 points from five sources, then pusher: 2 (12), 2 (14), 2 (16: 6/16 =
    # 37.5 % > 35 % -> held), 2 (held).
    assert (await final(http, "ELON"))["reality_score"] == "64.00"
    assert (await final(http, "TSLA"))["reality_score"] == "60.00"
    statuses = await helpers.rows(
        database_url, "SELECT status, count(*) FROM events GROUP BY status ORDER BY status"
    )
    assert statuses == [("applied", 42), ("pending_review", 2)]
    assert await helpers.count(database_url, "score_changes") == 82

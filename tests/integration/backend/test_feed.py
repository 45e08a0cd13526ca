"""The public reality feed: applied events only, newest first, filtered by symbol, paged by a
cursor that neither skips nor repeats, and refusals that name what was wrong."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from nats.aio.client import Client

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

FEED = "/api/v1/reality/events"


async def ingest(
    http: httpx.AsyncClient, stocks: list[str], impact: str, summary: str, source: str = "wire-a"
) -> dict[str, Any]:
    payload = {**event(stocks, impact, source=source), "summary": summary}
    body, sig = signed(payload)
    response = await http.post("/api/v1/reality/ingest", content=body, headers={"X-SIGNATURE": sig})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def feed(http: httpx.AsyncClient, path: str = FEED, **params: Any) -> dict[str, Any]:
    response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def ids(page: dict[str, Any]) -> list[str]:
    return [item["event_id"] for item in page["data"]]


async def test_applied_events_newest_first_with_why_and_by_symbol(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await list_elon_tsla_and_tech(admin)
    assert await feed(http) == {"data": [], "count": 0, "next_cursor": None}

    first = await ingest(http, ["ELON"], "6.25", "Launch succeeds", source="wire-a")
    second = await ingest(http, ["TSLA"], "-3.50", "Recall announced", source="wire-b")
    third = await ingest(http, ["ELON"], "1.00", "Follow-up <b>bold</b>", source="wire-c")

    page = await feed(http)
    assert ids(page) == [third["event_id"], second["event_id"], first["event_id"]]
    assert page["count"] == 3
    assert page["next_cursor"] is None
    newest = page["data"][0]
    assert newest["summary"] == "Follow-up <b>bold</b>"  # stored text, as published
    oldest = page["data"][2]
    assert oldest["status"] == "applied"
    assert oldest["reviewed"] is False
    assert oldest["summary"] == "Launch succeeds"
    assert oldest["impact_points"] == "6.25"
    assert oldest["stocks"] == ["ELON"]
    assert oldest["sources"] == [{"id": "wire-a", "url": "https://wire-a.example/1", "trust": 0.8}]
    # The index moved with its component, so the event explains both moves.
    assert oldest["changes"] == [
        {"symbol": "ELON", "old_score": "50.00", "new_score": "56.25", "delta": "6.25"},
        {"symbol": "TECH", "old_score": "45.00", "new_score": "48.13", "delta": "3.13"},
    ]
    stamps = [datetime.fromisoformat(item["applied_at"]) for item in page["data"]]
    assert stamps == sorted(stamps, reverse=True)
    assert all(datetime.fromisoformat(i["timestamp"]).tzinfo is not None for i in page["data"])
    assert "llm_calls" not in oldest and "payload" not in oldest

    by_query = await feed(http, symbol="ELON")
    assert ids(by_query) == [third["event_id"], first["event_id"]]
    by_path = await feed(http, "/api/v1/stocks/ELON/events")
    assert by_path == by_query
    assert ids(await feed(http, symbol="TSLA")) == [second["event_id"]]
    # An index lists the events that moved it through its components.
    assert ids(await feed(http, symbol="TECH")) == ids(page)


async def test_pages_have_no_gaps_or_repeats_even_at_equal_timestamps(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient, database_url: str
) -> None:
    await list_symbol(admin, "ELON")
    await list_symbol(admin, "TSLA")
    applied = []
    for n in range(7):
        symbol = "ELON" if n % 2 == 0 else "TSLA"
        applied.append((await ingest(http, [symbol], "0.50", f"event {n}"))["event_id"])
    # One JetStream batch shares its decision time; make that true of all seven.
    await helpers.rows(
        database_url,
        "UPDATE events SET decided_at = %s RETURNING id",
        helpers.ago(minutes=5),
    )

    async def walk(limit: int, **params: Any) -> list[str]:
        seen: list[str] = []
        page = await feed(http, limit=limit, **params)
        while True:
            assert page["count"] == len(page["data"]) <= limit
            seen += ids(page)
            if page["next_cursor"] is None:
                return seen
            assert page["count"] == limit
            assert page["next_cursor"] == page["data"][-1]["cursor"]
            page = await feed(http, limit=limit, before=page["next_cursor"], **params)

    newest_first = list(reversed(applied))
    for limit in (1, 2, 3, 7, 200):
        assert await walk(limit) == newest_first
    assert await walk(2, symbol="ELON") == newest_first[::2]
    assert await walk(1, symbol="TSLA") == newest_first[1::2]

    # Events arriving while a trader pages back do not shift the older pages.
    top = await feed(http, limit=3)
    late = (await ingest(http, ["ELON"], "0.25", "late news"))["event_id"]
    rest = await feed(http, limit=200, before=top["next_cursor"])
    assert ids(top) + ids(rest) == newest_first
    assert ids(await feed(http, limit=1)) == [late]


async def test_held_and_rejected_events_are_not_public(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await list_symbol(admin, "ELON")
    calm = await ingest(http, ["ELON"], "2", "Calm news")
    held = await ingest(http, ["ELON"], "16", "Too good to be true")
    refused = await ingest(http, ["ELON"], "-20", "Smear campaign")
    assert held["status"] == refused["status"] == "pending_review"
    for page in (await feed(http), await feed(http, symbol="ELON")):
        assert ids(page) == [calm["event_id"]]

    decide = "/api/v1/admin/approve"
    reject = {"event_id": refused["event_id"], "approve": False, "admin_id": "a", "note": "fake"}
    assert (await admin.post(decide, json=reject)).status_code == 200
    approve = {"event_id": held["event_id"], "approve": True, "admin_id": "a", "note": "ok"}
    assert (await admin.post(decide, json=approve)).status_code == 200

    page = await feed(http, symbol="ELON")
    assert ids(page) == [held["event_id"], calm["event_id"]]
    approved = page["data"][0]
    assert approved["reviewed"] is True
    assert approved["changes"] == [
        {"symbol": "ELON", "old_score": "52.00", "new_score": "68.00", "delta": "16.00"}
    ]
    assert refused["event_id"] not in ids(await feed(http))


async def test_event_applied_through_jetstream_is_listed(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient, bus: Client
) -> None:
    await list_symbol(admin, "ELON")
    payload = {**event(["ELON"], "4.00"), "summary": "Read off the wire"}
    body, sig = signed(payload)
    headers = {"Nats-Msg-Id": payload["event_id"], "X-Signature": sig}
    await bus.jetstream().publish(contracts.REALITY_SUBJECT, body, headers=headers)
    page = await eventually(lambda: feed(http, symbol="ELON"), lambda p: p["count"] == 1)
    assert page["data"][0]["event_id"] == payload["event_id"]
    assert page["data"][0]["summary"] == "Read off the wire"


async def test_refusals_name_the_field_or_the_symbol(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await list_symbol(admin, "ELON")
    for bad in ("0", "201", "-1", "many"):
        response = await http.get(FEED, params={"limit": bad})
        assert response.status_code == 422, (bad, response.text)
        assert [e["loc"] for e in response.json()["detail"]] == [["query", "limit"]]
    for bad in ("yesterday", "1-", "12345678901234567-1", "1-1234567890123456789"):
        response = await http.get(FEED, params={"before": bad})
        assert response.status_code == 422, (bad, response.text)
        assert [e["loc"] for e in response.json()["detail"]] == [["query", "before"]]
    response = await http.get(FEED, params={"symbol": "elon"})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", "symbol"]]

    for response in (
        await http.get(FEED, params={"symbol": "NOPE"}),
        await http.get("/api/v1/stocks/NOPE/events"),
    ):
        assert response.status_code == 404
        assert "NOPE" in response.json()["detail"]
    assert (await http.get("/api/v1/stocks/ELON/events", params={"limit": 0})).status_code == 422

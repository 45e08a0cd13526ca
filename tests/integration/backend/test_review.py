"""Anti-manipulation holds; an admin's decision applies exactly once or never."""

from __future__ import annotations

import asyncio

import httpx

from tests.integration.backend import helpers
from tests.integration.backend.helpers import event, list_symbol, signed
from tests.support.backend_server import RunningBackend


async def ingest(
    http: httpx.AsyncClient, stocks: list[str], impact: str, source: str = "wire-a"
) -> dict[str, object]:
    body, sig = signed(event(stocks, impact, source=source))
    response = await http.post("/api/v1/reality/ingest", content=body, headers={"X-SIGNATURE": sig})
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


async def reality(http: httpx.AsyncClient, symbol: str) -> str:
    return str((await http.get(f"/api/v1/stocks/{symbol}/final")).json()["reality_score"])


async def test_suspicious_delta_is_held_then_approved_once(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient, database_url: str
) -> None:
    await list_symbol(admin, "ELON")
    held = await ingest(http, ["ELON"], "16")
    assert held["status"] == "pending_review"
    assert held["held"] == [
        {"symbol": "ELON", "reason": "delta_exceeds_threshold", "delta": "16.00"}
    ]
    assert await reality(http, "ELON") == "50.00"
    assert await helpers.count(database_url, "score_changes") == 0

    pending = (await admin.get("/api/v1/admin/pending")).json()
    assert pending["count"] == 1
    event_id = pending["data"][0]["event_id"]
    assert event_id == held["event_id"]

    decisions = [
        {"event_id": event_id, "approve": True, "admin_id": "alice", "note": "checked"},
        {"event_id": event_id, "approve": True, "admin_id": "bob", "note": "me too"},
    ]
    first, second = await asyncio.gather(
        *(admin.post("/api/v1/admin/approve", json=d) for d in decisions)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert await reality(http, "ELON") == "66.00"
    assert await helpers.count(database_url, "score_changes") == 1
    third = await admin.post("/api/v1/admin/approve", json={**decisions[0], "approve": False})
    assert third.status_code == 409
    assert (await admin.get("/api/v1/admin/pending")).json()["count"] == 0

    audit = (await admin.get("/api/v1/admin/audit", params={"symbol": "ELON"})).json()
    assert len(audit["decisions"]) == 1
    assert audit["decisions"][0]["decision"] == "approve"
    assert audit["decisions"][0]["approved_by"] in ("alice", "bob")
    assert [c["delta"] for c in audit["score_changes"]] == ["16.00"]


async def test_rejected_event_is_never_applied(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient, database_url: str
) -> None:
    await list_symbol(admin, "ELON")
    held = await ingest(http, ["ELON"], "-20")
    decision = {"event_id": held["event_id"], "approve": False, "admin_id": "alice", "note": "fake"}
    response = await admin.post("/api/v1/admin/approve", json=decision)
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    again = await admin.post("/api/v1/admin/approve", json={**decision, "approve": True})
    assert again.status_code == 409
    assert await reality(http, "ELON") == "50.00"
    assert await helpers.count(database_url, "score_changes") == 0
    rejected = (await admin.get("/api/v1/admin/audit", params={"decision": "reject"})).json()
    assert [d["event_id"] for d in rejected["decisions"]] == [held["event_id"]]
    assert (await admin.get("/api/v1/admin/audit", params={"decision": "approve"})).json()[
        "decisions"
    ] == []


async def test_one_source_dominating_a_symbol_is_held(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await list_symbol(admin, "ELON")
    # Below the floor (15 points in 24 h) one source may move a quiet symbol alone.
    assert (await ingest(http, ["ELON"], "9", source="wire-a"))["status"] == "applied"
    assert (await ingest(http, ["ELON"], "5", source="wire-b"))["status"] == "applied"
    # 19 points in 24 h, wire-c holds 5/19 = 26 %: applied.
    assert (await ingest(http, ["ELON"], "-5", source="wire-c"))["status"] == "applied"
    # wire-a would hold (9 + 3) / 22 = 55 % of the 24 h movement: held.
    held = await ingest(http, ["ELON"], "3", source="wire-a")
    assert held["status"] == "pending_review"
    assert held["held"][0]["reason"] == "single_source_share"  # type: ignore[index]
    assert await reality(http, "ELON") == "59.00"


async def test_wrong_admin_key_changes_nothing(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient, database_url: str
) -> None:
    await list_symbol(admin, "ELON")
    held = await ingest(http, ["ELON"], "18")
    decision = {"event_id": held["event_id"], "approve": True, "admin_id": "mallory"}
    wrong = await http.post(
        "/api/v1/admin/approve", json=decision, headers={"X-ADMIN-KEY": "guess"}
    )
    assert wrong.status_code == 403
    missing = await http.post("/api/v1/admin/approve", json=decision)
    assert missing.status_code == 401
    patch = await http.patch(
        "/api/v1/admin/stocks/ELON", json={"name": "pwned"}, headers={"X-ADMIN-KEY": "guess"}
    )
    assert patch.status_code == 403
    create = await http.post(
        "/api/v1/admin/stocks", json={"symbol": "EVIL", "name": "x"}, headers={"X-ADMIN-KEY": ""}
    )
    assert create.status_code == 401
    assert (await http.get("/api/v1/stocks/ELON")).json()["name"] == "ELON Inc"
    assert (await http.get("/api/v1/stocks/EVIL")).status_code == 404
    assert await reality(http, "ELON") == "50.00"
    assert (await admin.get("/api/v1/admin/pending")).json()["count"] == 1
    metrics = (await http.get("/metrics")).text
    assert 'em_backend_admin_auth_failures_total{reason="wrong"} 2.0' in metrics
    assert 'em_backend_admin_auth_failures_total{reason="missing"} 2.0' in metrics

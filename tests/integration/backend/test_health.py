from __future__ import annotations

import httpx

from tests.integration.backend.helpers import list_symbol
from tests.support.backend_server import RunningBackend


async def test_health_reports_database_and_socket_count(
    http: httpx.AsyncClient, backend: RunningBackend
) -> None:
    response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "database": "connected", "websocket_clients": 0}


async def test_symbol_listing_and_final_price(
    http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    created = await list_symbol(admin, "ELON", initial_score="62.5")
    assert created["final_price"] == "62.50"
    final = (await http.get("/api/v1/stocks/ELON/final")).json()
    assert final["final_price"] == "62.50"
    assert final["reality_score"] == "62.50"
    assert final["market_price"] is None
    listing = (await http.get("/api/v1/stocks")).json()
    assert [s["symbol"] for s in listing["data"]] == ["ELON"]
    assert (await http.get("/api/v1/stocks/NOPE/final")).status_code == 404
    metrics = (await http.get("/metrics")).text
    assert (
        'em_backend_request_seconds_count{method="GET",route="/api/v1/stocks/{symbol}/final"} 2.0'
        in metrics
    )
    assert "em_backend_ingest_events_total" in metrics

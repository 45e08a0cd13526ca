"""Live switches from the em-control KV: maintenance, announcement, admin lockout."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
from nats.aio.client import Client
from websockets.asyncio.client import connect

from em_backend.settings import Settings
from em_common import messaging
from tests.integration.backend.helpers import eventually, list_symbol
from tests.support.backend_server import RunningBackend, serve


async def put(bus: Client, key: str, value: dict[str, object]) -> None:
    kv = await messaging.ensure_control_kv(bus.jetstream())
    await kv.put(key, json.dumps(value).encode())


async def test_maintenance_from_kv_switches_within_two_seconds(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient, bus: Client
) -> None:
    await list_symbol(admin, "ELON")
    async with connect(f"{backend.ws_url}/ws/updates") as ws:
        until = datetime.now(UTC) + timedelta(minutes=5)
        await put(
            bus,
            "maintenance",
            {"enabled": True, "message": "Restoring a backup", "until": until.isoformat()},
        )
        blocked = await eventually(
            lambda: http.get("/api/v1/stocks/ELON/final"),
            lambda r: r.status_code == 503,
            within=2.0,
        )
        assert blocked.json() == {"detail": "Restoring a backup", "maintenance": True}
        assert 250 <= int(blocked.headers["Retry-After"]) <= 301
        notice = json.loads(await ws.recv())
        assert notice["type"] == "maintenance"
        assert notice["enabled"] is True
        assert notice["message"] == "Restoring a backup"
    assert (await http.get("/health")).status_code == 200
    assert (await http.get("/metrics")).status_code == 200
    assert (await admin.get("/api/v1/admin/pending")).status_code == 503

    await put(bus, "maintenance", {"enabled": False, "message": ""})
    back = await eventually(
        lambda: http.get("/api/v1/stocks/ELON/final"),
        lambda r: r.status_code == 200,
        within=2.0,
    )
    assert back.json()["symbol"] == "ELON"


async def test_maintenance_mode_env_without_operator(backend_settings: Settings) -> None:
    settings = backend_settings.model_copy(update={"maintenance_mode": True})
    async with serve(settings) as backend, httpx.AsyncClient(base_url=backend.base_url) as http:
        blocked = await http.get("/api/v1/stocks")
        assert blocked.status_code == 503
        assert blocked.headers["Retry-After"] == "60"
        assert (await http.get("/health")).status_code == 200


async def test_announcement_and_admin_lockout(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient, bus: Client
) -> None:
    status = (await http.get("/api/v1/status")).json()
    assert status["announcement"] is None
    assert status["maintenance"] is False
    starts = datetime(2030, 1, 1, 2, 0, tzinfo=UTC)
    await put(bus, "announcement", {"message": "Upgrade Sunday", "starts_at": starts.isoformat()})
    status = await eventually(
        lambda: http.get("/api/v1/status"), lambda r: r.json()["announcement"] is not None
    )
    assert status.json()["announcement"] == {
        "message": "Upgrade Sunday",
        "starts_at": "2030-01-01T02:00:00Z",
    }

    await put(bus, "admin_access", {"enabled": False})
    # Poll with a read: a create sent before the lockout landed would rightly succeed.
    locked = await eventually(
        lambda: admin.get("/api/v1/admin/audit"), lambda r: r.status_code == 403, within=2.0
    )
    assert locked.json()["detail"] == "admin access is locked"
    created = await admin.post("/api/v1/admin/stocks", json={"symbol": "ELON", "name": "E"})
    assert created.status_code == 403
    assert (await http.get("/api/v1/stocks/ELON")).status_code == 404
    await put(bus, "admin_access", {"enabled": True})
    await eventually(
        lambda: admin.get("/api/v1/admin/pending"), lambda r: r.status_code == 200, within=2.0
    )


async def test_health_reports_a_down_database(backend_settings: Settings) -> None:
    settings = backend_settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:9/nowhere"}
    )
    async with serve(settings) as backend, httpx.AsyncClient(base_url=backend.base_url) as http:
        response = await http.get("/health")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unhealthy",
            "database": "disconnected",
            "websocket_clients": 0,
        }
        listing = await http.get("/api/v1/stocks")
        assert listing.status_code == 503
        assert listing.headers["Retry-After"] == "5"

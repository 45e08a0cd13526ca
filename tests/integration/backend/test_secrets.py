"""Rotation grace: the previous HMAC secret and admin key work until their end, not after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr

from em_backend.settings import Settings
from tests.integration.backend import helpers
from tests.integration.backend.helpers import ADMIN_KEY, event, list_symbol, signed
from tests.support.backend_server import serve


def rotated(settings: Settings, *, grace: timedelta) -> Settings:
    until = datetime.now(UTC) + grace
    return settings.model_copy(
        update={
            "reality_api_secret": SecretStr("new-reality-secret-abcdef"),
            "reality_api_secret_previous": settings.reality_api_secret,
            "reality_api_secret_previous_until": until,
            "admin_api_key": SecretStr("new-admin-key-abcdef"),
            "admin_api_key_previous": settings.admin_api_key,
            "admin_api_key_previous_until": until,
        }
    )


async def test_previous_secret_accepted_during_grace(
    backend_settings: Settings, database_url: str
) -> None:
    async with (
        serve(rotated(backend_settings, grace=timedelta(hours=1))) as backend,
        httpx.AsyncClient(base_url=backend.base_url) as http,
    ):
        old_admin = {"X-ADMIN-KEY": ADMIN_KEY}
        created = await http.post(
            "/api/v1/admin/stocks", json={"symbol": "ELON", "name": "E"}, headers=old_admin
        )
        assert created.status_code == 201
        body, old_sig = signed(event(["ELON"], "2"))  # signed with the previous secret
        response = await http.post(
            "/api/v1/reality/ingest", content=body, headers={"X-SIGNATURE": old_sig}
        )
        assert response.status_code == 200
        assert response.json()["status"] == "applied"


async def test_expired_previous_secret_is_refused(
    backend_settings: Settings, database_url: str
) -> None:
    async with (
        serve(rotated(backend_settings, grace=timedelta(seconds=-1))) as backend,
        httpx.AsyncClient(base_url=backend.base_url) as http,
    ):
        new_admin = {"X-ADMIN-KEY": "new-admin-key-abcdef"}
        old = await http.post(
            "/api/v1/admin/stocks",
            json={"symbol": "ELON", "name": "E"},
            headers={"X-ADMIN-KEY": ADMIN_KEY},
        )
        assert old.status_code == 403
        async with httpx.AsyncClient(base_url=backend.base_url, headers=new_admin) as admin:
            await list_symbol(admin, "ELON")
        before = await helpers.table_counts(database_url)
        body, old_sig = signed(event(["ELON"], "2"))
        response = await http.post(
            "/api/v1/reality/ingest", content=body, headers={"X-SIGNATURE": old_sig}
        )
        assert response.status_code == 401
        assert await helpers.table_counts(database_url) == before
        _, new_sig = signed(event(["ELON"], "2"), secret="new-reality-secret-abcdef")
        assert new_sig != old_sig

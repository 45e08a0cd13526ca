from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr, ValidationError

from em_backend.settings import Settings

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def make(**kwargs: object) -> Settings:
    base: dict[str, object] = {
        "em_env": "production",
        "database_url": "postgresql://db/market",
        "reality_api_secret": "current-reality",
        "admin_api_key": "current-admin",
        "jwt_secret": "a-jwt-secret",
    }
    return Settings(**{**base, **kwargs})  # type: ignore[arg-type]


def test_previous_secret_only_during_its_grace_period() -> None:
    settings = make(
        reality_api_secret_previous=SecretStr("old-reality"),
        reality_api_secret_previous_until=NOW + timedelta(hours=1),
    )
    assert settings.reality_secrets(NOW) == ["current-reality", "old-reality"]
    assert settings.reality_secrets(NOW + timedelta(hours=2)) == ["current-reality"]


def test_previous_without_an_end_is_never_accepted() -> None:
    settings = make(admin_api_key_previous=SecretStr("old-admin"))
    assert settings.admin_keys(NOW) == ["current-admin"]


def test_placeholder_secrets_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="ADMIN_API_KEY"):
        make(admin_api_key="changethis")
    assert make(em_env="development", admin_api_key="").is_development


def test_orderbook_deadline_is_bounded() -> None:
    with pytest.raises(ValidationError):
        make(orderbook_timeout_ms=500)

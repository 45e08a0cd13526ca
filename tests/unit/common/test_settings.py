from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import SecretStr

from em_common import errors, settings
from em_common.constants import DomainConstants


class _Demo(settings.BaseServiceSettings):
    required_secrets: ClassVar[tuple[str, ...]] = ("jwt_secret", "database_url")
    jwt_secret: SecretStr = SecretStr("")
    database_url: str = ""


def test_missing_secret_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with pytest.raises(errors.ConfigError) as info:
        settings.load(_Demo)
    assert "JWT_SECRET" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", ["changethis", "CHANGEME", "", "todo"])
def test_placeholder_refused_and_never_echoed(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("JWT_SECRET", value)
    with pytest.raises(errors.ConfigError) as info:
        settings.load(_Demo)
    assert "JWT_SECRET" in str(info.value)
    if value:
        assert value not in str(info.value)


def test_real_secret_accepted_and_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("JWT_SECRET", "a-real-and-long-random-value")
    loaded = settings.load(_Demo)
    assert settings.secret_value(loaded.jwt_secret) == "a-real-and-long-random-value"
    assert "a-real-and-long-random-value" not in repr(loaded)


def test_development_tolerates_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EM_ENV", "development")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert settings.load(_Demo).is_development


def test_domain_constants_defaults_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DomainConstants().delta_cap == 20
    assert DomainConstants().similarity_duplicate == 0.88
    monkeypatch.setenv("DELTA_CAP", "25")
    assert DomainConstants().delta_cap == 25
    monkeypatch.setenv("EWMA_ALPHA", "3")
    with pytest.raises(ValueError):
        DomainConstants()

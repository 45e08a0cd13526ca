"""The backend's settings: everything from the environment, validated once at start-up.

Secrets that rotate (the reality HMAC secret, the admin key) come in pairs: the current value
and, during the operator's grace period, the previous one with the instant it stops being
accepted. A previous value without an end instant is never accepted (fail closed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr

from em_common import settings as common_settings


def _active(
    current: SecretStr, previous: SecretStr | None, until: datetime | None, now: datetime
) -> list[str]:
    values = [current.get_secret_value()]
    if (
        previous is not None
        and previous.get_secret_value()
        and until is not None
        and now < (until if until.tzinfo else until.replace(tzinfo=UTC))
    ):
        values.append(previous.get_secret_value())
    return [value for value in values if value]


class Settings(common_settings.BaseServiceSettings):
    """Backend settings (`em backend`); see services/backend/README.md for each variable."""

    required_secrets: ClassVar[tuple[str, ...]] = (
        "database_url",
        "reality_api_secret",
        "admin_api_key",
        "jwt_secret",
    )

    database_url: str = ""
    nats_url: str = "nats://127.0.0.1:4222"
    orderbook_addr: str = "127.0.0.1:50051"

    reality_api_secret: SecretStr = SecretStr("")
    reality_api_secret_previous: SecretStr | None = None
    reality_api_secret_previous_until: datetime | None = None
    admin_api_key: SecretStr = SecretStr("")
    admin_api_key_previous: SecretStr | None = None
    admin_api_key_previous_until: datetime | None = None
    jwt_secret: SecretStr = SecretStr("")

    maintenance_mode: bool = False
    maintenance_message: str = "Everything Market is under maintenance; back soon."
    maintenance_retry_after_seconds: int = Field(60, ge=1)

    host: str = Field("0.0.0.0", validation_alias=AliasChoices("backend_host", "host"))
    port: int = Field(8000, ge=0, le=65535, validation_alias=AliasChoices("backend_port", "port"))
    drain_seconds: float = Field(10.0, ge=0)
    # Worker processes sharing the listening socket (each a whole backend: its own event
    # loop, pools and stream consumers, like a replica). One per core the pod may use.
    web_concurrency: int = Field(1, ge=1, le=64)

    orderbook_timeout_ms: int = Field(200, ge=10, le=200)
    orderbook_breaker_failures: int = Field(3, ge=1)
    orderbook_breaker_reset_seconds: float = Field(5.0, gt=0)

    ingest_max_skew_seconds: int = Field(600, ge=1)
    consumer_batch: int = Field(256, ge=1, le=1024)
    cache_refresh_seconds: float = Field(30.0, gt=0)

    ws_queue_size: int = Field(256, ge=1)
    ws_heartbeat_seconds: float = Field(20.0, gt=0)
    live_subject_prefix: str = "em.live"

    # Connections kept open: at least the requests in flight, or the pool churns (a new
    # PostgreSQL connection per request costs more than the request).
    db_pool_size: int = Field(40, ge=1, le=500)
    db_max_overflow: int = Field(20, ge=0, le=500)
    # Each of the order path's two plain connection pools (durable, relaxed commits).
    db_order_pool_size: int = Field(16, ge=1, le=200)

    # Traders and trading (services/backend/README.md, "Trading").
    jwt_expire_minutes: int = Field(30, ge=1, le=24 * 60)
    order_timeout_ms: int = Field(2000, ge=50, le=30_000)
    pending_order_grace_seconds: float = Field(10.0, gt=0)
    auth_rate_per_minute: float = Field(30.0, gt=0)
    auth_burst: int = Field(10, ge=1)
    order_rate_per_second: float = Field(20.0, gt=0)
    order_burst: int = Field(40, ge=1)

    def reality_secrets(self, now: datetime | None = None) -> list[str]:
        """Secrets an event signature may use right now (current, then previous in grace)."""
        return _active(
            self.reality_api_secret,
            self.reality_api_secret_previous,
            self.reality_api_secret_previous_until,
            now or datetime.now(UTC),
        )

    def admin_keys(self, now: datetime | None = None) -> list[str]:
        """Admin keys accepted right now (current, then previous in grace)."""
        return _active(
            self.admin_api_key,
            self.admin_api_key_previous,
            self.admin_api_key_previous_until,
            now or datetime.now(UTC),
        )


def load() -> Settings:
    """Build the settings from the environment (called from `main`, never at import)."""
    return common_settings.load(Settings)

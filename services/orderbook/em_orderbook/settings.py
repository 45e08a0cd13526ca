"""The orderbook's settings, from the environment (12-factor), validated at start-up."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from em_common import settings


class OrderbookSettings(settings.BaseServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, frozen=True)

    required_secrets: ClassVar[tuple[str, ...]] = ("database_url",)

    database_url: SecretStr = SecretStr("")
    nats_url: str = "nats://127.0.0.1:4222"
    orderbook_bind: str = "0.0.0.0"
    orderbook_grpc_port: int = Field(50051, ge=0, le=65535)
    orderbook_http_port: int = Field(8001, ge=0, le=65535)
    # Shard of this replica; unset → the StatefulSet ordinal from HOSTNAME (or 0 of 1).
    orderbook_shard_index: int | None = Field(None, ge=0)
    orderbook_shard_count: int = Field(1, ge=1, le=1024)
    hostname: str = ""
    # Journal stream name prefix (`<prefix>_<shard>`) and snapshot bucket (`<prefix>_SNAPSHOTS`).
    orderbook_journal: str = Field("OBJOURNAL", pattern=r"^[A-Z][A-Z0-9_]{0,30}$")
    # Where the outputs follower (MARKET events, PostgreSQL rows) runs: a child process of
    # `em orderbook` (default), inline in the same event loop (tests), or elsewhere
    # (`em orderbook --role outputs`, e.g. a sidecar).
    orderbook_outputs: Literal["process", "inline", "external"] = "process"
    # Niceness the child follower adds to itself: matching and acknowledging orders come
    # first, outputs catch up in the gaps (0 to share the CPU evenly).
    orderbook_outputs_nice: int = Field(5, ge=0, le=19)
    snapshot_every: int = Field(100_000, ge=1)
    # Finished orders remembered for idempotent retries and GetOrder (live ones always are).
    orderbook_idempotency_retain: int = Field(250_000, ge=1)
    # At most one book event per symbol per this many ms (0: one per journal batch).
    orderbook_book_interval_ms: int = Field(100, ge=0, le=10_000)
    # Journal appends in flight at once: a second one hides the first one's ack round trip
    # (halves order latency under load); a lost ack repairs them in order, by Nats-Msg-Id.
    orderbook_journal_inflight: int = Field(2, ge=1, le=256)
    # Under load, wait this long before cutting a journal batch so that more orders share
    # it (fewer appends, acks and event flights per order); 0 cuts at once.
    orderbook_journal_linger_ms: float = Field(2.0, ge=0, le=50)
    orderbook_batch_max: int = Field(2000, ge=1, le=5000)
    orderbook_queue_max: int = Field(50_000, ge=1)
    orderbook_ack_timeout: float = Field(2.0, gt=0)
    orderbook_drain_seconds: float = Field(10.0, ge=0)
    orderbook_projection_interval: float = Field(0.2, gt=0)

    @property
    def journal_stream(self) -> str:
        return self.orderbook_journal

    @property
    def database_dsn(self) -> str:
        return self.database_url.get_secret_value()

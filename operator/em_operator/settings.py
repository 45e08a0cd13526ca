"""The operator's settings, from the environment (`EM_OPERATOR_*`) and `em operator` flags.

The intervals are fallbacks only: the operator reacts to watch events on the
market and on everything it owns, so a change is reconciled at once. The
resync catches what no watch reports (an object kind that is not watched, a
missed event), and the requeue paces a step that waits on the clock alone
(a progress deadline).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OperatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EM_OPERATOR_")

    namespaces: list[str] = Field(default_factory=list)  # empty: every namespace
    port: int = 8080  # /healthz and /metrics
    # kopf peering: one active operator among replicas. Standalone skips it (tests, dev).
    standalone: bool = False
    peering: str = "em-operator"
    priority: int = 0
    data_losing_migrations: frozenset[str] = frozenset()
    resync_seconds: float = Field(default=60.0, gt=0)  # idle market: look again this often
    requeue_seconds: float = Field(default=10.0, gt=0)  # upper bound while a step waits
    retry_seconds: float = Field(default=5.0, gt=0)  # first retry after an API error (doubles)
    retry_max_seconds: float = Field(default=120.0, gt=0)
    debounce_seconds: float = Field(default=0.02, ge=0)  # let a burst of watch events settle
    log_level: str = "INFO"


_current: OperatorSettings | None = None


def get() -> OperatorSettings:
    global _current
    if _current is None:
        _current = OperatorSettings()
    return _current


def use(value: OperatorSettings) -> OperatorSettings:
    """Replace the process's settings (`em operator` flags override the environment)."""
    global _current
    _current = value
    return value

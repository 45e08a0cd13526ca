"""The operator's settings, from the environment (`EM_OPERATOR_*`)."""

from __future__ import annotations

import functools

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OperatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EM_OPERATOR_")

    namespaces: list[str] = Field(default_factory=list)  # empty: every namespace
    port: int = 8080  # /healthz and /metrics
    peering: str = "em-operator"
    data_losing_migrations: frozenset[str] = frozenset()


@functools.cache
def get() -> OperatorSettings:
    return OperatorSettings()

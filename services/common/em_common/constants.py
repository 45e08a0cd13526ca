"""The seed system's canonical domain constants (ARCHITECTURE §6), each env-overridable.

Services read them through `get_domain()` once at start-up and pass plain values into their
domain code, so the pure modules never touch the environment.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PRICE_MIN = Decimal("0")
PRICE_MAX = Decimal("100")
INITIAL_SCORE = Decimal("50")
STARTING_CASH = Decimal("10000.00")
PRICE_CENTS_MIN = 1
PRICE_CENTS_MAX = 9999
QUANTITY_MIN = 1
QUANTITY_MAX = 10_000


class DomainConstants(BaseSettings):
    """Thresholds and weights of the reality and market rules."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    similarity_duplicate: float = Field(0.88, ge=0, le=1)
    similarity_group: float = Field(0.78, ge=0, le=1)
    llm_quick_threshold: float = Field(0.45, ge=0, le=1)
    llm_calls_per_hour: int = Field(10, ge=0)
    min_indep_sources: int = Field(2, ge=1)
    vector_window_seconds: int = Field(21600, gt=0)
    tau_seconds: int = Field(172800, gt=0)
    delta_cap: float = Field(20, gt=0)
    suspicious_delta: float = Field(15, gt=0)
    ewma_alpha: float = Field(0.25, gt=0, le=1)
    max_single_source_influence_24h: float = Field(0.35, gt=0, le=1)


@lru_cache(maxsize=1)
def get_domain() -> DomainConstants:
    """Constants from the environment (e.g. `DELTA_CAP=25`), defaults otherwise."""
    return DomainConstants()

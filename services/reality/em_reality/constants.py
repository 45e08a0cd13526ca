"""The seed's domain constants for the Reality Engine (ARCHITECTURE.md §6).

Domain code receives a ``RealityConstants`` value and never reads the environment: the
service's settings class builds one (with env overrides) at start-up and passes it down, so a
test or a dry run can use other values without touching process state.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from em_reality import errors


@dataclass(frozen=True, slots=True)
class RealityConstants:
    similarity_duplicate: float = 0.88
    similarity_group: float = 0.78
    llm_quick_threshold: float = 0.45
    llm_calls_per_hour: int = 10
    min_indep_sources: int = 2
    vector_window_seconds: int = 21600
    tau_seconds: int = 172800
    delta_cap: Decimal = Decimal(20)
    suspicious_delta: Decimal = Decimal(15)
    max_single_source_influence_24h: float = 0.35

    def __post_init__(self) -> None:
        if not 0.0 < self.similarity_group <= self.similarity_duplicate <= 1.0:
            raise errors.InvalidConstantsError(
                "need 0 < similarity_group <= similarity_duplicate <= 1, got "
                f"{self.similarity_group} and {self.similarity_duplicate}"
            )
        if self.tau_seconds <= 0 or self.vector_window_seconds <= 0:
            raise errors.InvalidConstantsError("tau_seconds and vector_window_seconds must be > 0")
        if self.delta_cap <= 0:
            raise errors.InvalidConstantsError("delta_cap must be > 0")
        if not 0.0 <= self.llm_quick_threshold <= 1.0:
            raise errors.InvalidConstantsError("llm_quick_threshold must be within [0, 1]")
        if self.min_indep_sources < 1 or self.llm_calls_per_hour < 0:
            raise errors.InvalidConstantsError(
                "min_indep_sources must be >= 1 and llm_calls_per_hour >= 0"
            )


DEFAULT_CONSTANTS = RealityConstants()

"""A circuit breaker over an injected clock: after N consecutive failures calls are refused
for a cool-down, then one trial call decides whether to close again.

Refusing fast matters on the request path: a dead orderbook must cost a price read
nothing, not a 200 ms timeout each time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

State = Literal["closed", "open", "half_open"]


@dataclass
class CircuitBreaker:
    failure_threshold: int
    reset_seconds: float
    state: State = "closed"
    failures: int = 0
    opened_at: float = field(default=0.0)

    def allow(self, now: float) -> bool:
        """May a call go out now? Moves open → half-open once the cool-down has passed."""
        if self.state == "closed":
            return True
        if self.state == "open" and now - self.opened_at >= self.reset_seconds:
            self.state = "half_open"
            return True
        return False

    def record_success(self) -> None:
        self.state = "closed"
        self.failures = 0

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self.state == "half_open" or self.failures >= self.failure_threshold:
            self.state = "open"
            self.opened_at = now

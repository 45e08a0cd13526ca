"""Counters of the trading code, registered on the app's own registry (see em_backend.metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class TradingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.orders = Counter(
            "em_backend_orders",
            "Order requests by outcome (open, filled, cancelled, rejected, duplicate, ...)",
            ["outcome"],
            registry=registry,
        )
        self.settlements = Counter(
            "em_backend_settlements",
            "Trades from the MARKET stream by outcome (settled, duplicate, unknown_order, ...)",
            ["outcome"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "em_backend_rate_limited",
            "Requests refused with 429 by scope (auth, orders)",
            ["scope"],
            registry=registry,
        )

"""Prometheus metrics of one app instance, in its own registry.

A registry per app (not the global one) lets tests build several apps in one process and
keeps `/metrics` limited to what this backend measures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.request_seconds = Histogram(
            "em_backend_request_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.responses_5xx = Counter(
            "em_backend_http_5xx", "Responses with a 5xx status", ["route"], registry=r
        )
        self.ws_connections = Gauge(
            "em_backend_ws_connections", "Open WebSocket connections", registry=r
        )
        self.ws_dropped = Counter(
            "em_backend_ws_dropped", "WebSocket clients dropped for being slow", registry=r
        )
        self.ingest = Counter(
            "em_backend_ingest_events",
            "Reality events by outcome (accepted|rejected|pending|duplicate) and reason",
            ["outcome", "reason", "via"],
            registry=r,
        )
        self.admin_auth_failures = Counter(
            "em_backend_admin_auth_failures", "Refused admin requests", ["reason"], registry=r
        )
        self.orderbook_calls = Counter(
            "em_backend_orderbook_calls", "Orderbook gRPC calls by outcome", ["outcome"], registry=r
        )
        self.consumer_messages = Counter(
            "em_backend_consumer_messages",
            "JetStream messages handled by consumer and outcome",
            ["consumer", "outcome"],
            registry=r,
        )
        self.settlement_lag = Histogram(
            "em_backend_settlement_lag_seconds",
            "Seconds from trade execution to its settlement commit",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

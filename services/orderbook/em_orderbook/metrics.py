"""Prometheus metrics: counters on the hot path, everything else read from state at scrape.

Each service instance has its own registry (several run in one test process). Hot-path
updates are per journal batch where possible; gauges such as book depth and lags are
computed only when /metrics is scraped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)
_APPLY_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.05)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.orders = Counter(
            "em_orderbook_orders", "Place commands applied, by outcome", ["outcome"], registry=r
        )
        self.accepted = self.orders.labels("accepted")
        self.rejected = self.orders.labels("rejected")
        self.duplicates = self.orders.labels("duplicate")
        self.fills = Counter("em_orderbook_fills", "Trades matched", registry=r)
        self.rejects = Counter(
            "em_orderbook_rejects", "Orders refused, by reason", ["reason"], registry=r
        )
        self.cancels = Counter("em_orderbook_cancels", "Cancels, by result", ["result"], registry=r)
        latency = Histogram(
            "em_orderbook_matching_latency_seconds",
            "Time from receiving an order to answering it durably matched, per RPC",
            ["method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.latency_unary = latency.labels("PlaceOrder")
        self.latency_batch = latency.labels("PlaceOrders")
        self.apply_seconds = Histogram(
            "em_orderbook_batch_apply_seconds",
            "Engine time to apply one journal batch (matching and bookkeeping)",
            buckets=_APPLY_BUCKETS,
            registry=r,
        )
        self.journal_batch = Histogram(
            "em_orderbook_journal_batch_commands",
            "Commands per journal append (group commit size)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048),
            registry=r,
        )

    def reject(self, reason: str) -> None:
        self.rejects.labels(reason).inc()

    def watch(self, read: Callable[[], dict[str, Any]]) -> None:
        """Expose gauges computed from `read()` at scrape time."""
        self.registry.register(_StateCollector(read))


class _StateCollector(Collector):
    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        data = self._read()
        lag = GaugeMetricFamily(
            "em_orderbook_journal_lag",
            "Commands or journal batches not yet through a stage",
            labels=["stage"],
        )
        for stage, value in data["lag"].items():
            lag.add_metric([stage], value)
        yield lag
        yield GaugeMetricFamily("em_orderbook_journal_seq", "Journal position applied", data["seq"])
        yield GaugeMetricFamily("em_orderbook_open_orders", "Resting orders", data["open_orders"])
        depth = GaugeMetricFamily(
            "em_orderbook_book_depth",
            "Resting quantity and price levels per symbol and side",
            labels=["symbol", "side", "unit"],
        )
        for symbol, side, quantity, levels in data["depth"]:
            depth.add_metric([symbol, side, "quantity"], quantity)
            depth.add_metric([symbol, side, "levels"], levels)
        yield depth

"""Prometheus metrics of the operator, served on `/metrics`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PHASES = (
    "Pending",
    "Migrating",
    "RollingOut",
    "SmokeTesting",
    "Ready",
    "Downgrading",
    "RollingBack",
    "Degraded",
    "Failed",
)

RECONCILIATIONS = Counter(
    "em_operator_reconciliations_total",
    "Reconciles of an EverythingMarket, by result (ok, blocked, error).",
    ["result"],
)
ACTION_SECONDS = Histogram(
    "em_operator_action_duration_seconds",
    "Time spent per reconcile action (observe, plan, apply, status).",
    ["action"],
)
PHASE = Gauge(
    "em_operator_market_phase",
    "1 for each market's current phase, 0 for the others.",
    ["namespace", "market", "phase"],
)


def set_phase(namespace: str, market: str, phase: str) -> None:
    for candidate in PHASES:
        PHASE.labels(namespace, market, candidate).set(1 if candidate == phase else 0)


def forget(namespace: str, market: str) -> None:
    for candidate in PHASES:
        try:
            PHASE.remove(namespace, market, candidate)
        except KeyError:
            continue

"""Two operators in one peering: only the one with the higher priority works; when it
stops, the other takes over (kopf peering; the peering object is created at start-up)."""

from __future__ import annotations

import pytest

from tests.support.kubelet import wait_for
from tests.support.markets import Market, PlayedKubelet, install
from tests.support.operator_process import OperatorFactory, OperatorProcess

pytestmark = [pytest.mark.k8s, pytest.mark.slow]


def workers(process: OperatorProcess) -> int:
    return sum(1 for r in process.records() if r.get("msg") == "worker started")


def test_only_the_highest_priority_operator_works_and_another_takes_over(
    operator_factory: OperatorFactory, played: PlayedKubelet, db_secret: str, market: Market
) -> None:
    standby = operator_factory(peering=0)
    active = operator_factory(peering=10)
    wait_for(
        "the standby to pause for the higher priority",
        lambda: any("Pausing" in str(r.get("msg")) for r in standby.records()),
        timeout=20,
    )
    install(market)
    assert workers(active) == 1 and workers(standby) == 0

    active.stop()  # SIGTERM: it leaves the peering on its way out
    wait_for("the standby's worker", lambda: workers(standby) == 1, timeout=30)
    market.patch({"backend": {"replicas": 3}})
    wait_for(
        "backend scaled by the standby",
        lambda: (market.workload("backend") or {}).get("spec", {}).get("replicas") == 3,
        timeout=10,
    )

"""Rollbacks with the database: automatic after the progress deadline, manual to a revision."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.markets import (
    HEADS,
    JobResult,
    Market,
    PlayedKubelet,
    image,
    install,
    report,
    succeed,
)
from tests.support.operator_process import OperatorProcess

pytestmark = [pytest.mark.k8s, pytest.mark.slow]

DEADLINE = 10  # the CRD's minimum, so the test waits as little as possible


def templates(market: Market) -> dict[str, Any]:
    return {
        c: (market.workload(c) or {}).get("spec", {}).get("template")
        for c in ("backend", "orderbook", "reality")
    }


def job_args(job: dict[str, Any]) -> tuple[str, list[str]]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return container["image"], container["args"]


def upgraded(market: Market, version: str = "2.0.0") -> dict[str, Any]:
    market.patch({"version": version})
    return market.wait_status(
        f"{version} Ready", lambda s: s.get("currentVersion") == version and s["phase"] == "Ready"
    )


def test_rollout_that_never_becomes_available_is_rolled_back_with_the_database(
    operator: OperatorProcess, played: PlayedKubelet, db_secret: str, market: Market
) -> None:
    install(market, rollback={"progressDeadlineSeconds": DEADLINE})
    before = templates(market)
    played.unready.add("2.0.0")
    played.policies["downgrade"] = succeed
    market.patch({"version": "2.0.0"})

    failing = market.wait_status(
        "the deadline to pass",
        lambda s: bool((s.get("rollout") or {}).get("failure")),
        timeout=DEADLINE + 20,
    )
    noticed = time.monotonic()
    assert failing["rollout"]["failure"]["reason"] == "ProgressDeadlineExceeded"
    status = market.wait_phase("Degraded", "RolledBack", timeout=30)
    took = time.monotonic() - noticed
    print(f"rollback sequence (deadline noticed -> Degraded/RolledBack): {took:.2f}s")

    # The downgrade ran with the NEWER image, to the head revision 1 recorded.
    (downgrade,) = market.jobs("downgrade")
    assert job_args(downgrade) == (image("2.0.0"), ["migrate", "downgrade", HEADS["1.0.0"]])
    assert templates(market) == before  # the previous template, exactly
    assert status["currentVersion"] == "1.0.0" and status["currentRevision"] == 1
    ready = market.condition("Ready")
    assert "Version 2.0.0 failed (ProgressDeadlineExceeded" in ready["message"]
    last = status["history"][-1]
    assert (last["revision"], last["version"], last["outcome"]) == (2, "2.0.0", "RolledBack")
    market.wait_events("ProgressDeadlineExceeded", "DowngradeStarted", "DowngradeSucceeded",
                       "RolledBack")  # fmt: skip
    smoke = [job_args(j) for j in market.jobs("smoke")]
    assert len(smoke) == 2 and smoke[-1][0] == image("1.0.0")  # the rollback was smoke tested

    # Degraded until the spec changes; then a new attempt starts.
    played.unready.clear()
    status = upgraded(market, "3.0.0")
    assert status["currentRevision"] == 3


def test_manual_rollback_to_a_revision_downgrades_first(
    operator: OperatorProcess, played: PlayedKubelet, db_secret: str, market: Market
) -> None:
    install(market)
    first = templates(market)
    upgraded(market)
    played.policies["downgrade"] = succeed
    market.patch({"rollback": {"toRevision": 1}})

    status = market.wait_status(
        "revision 3 serving 1.0.0",
        lambda s: s.get("currentRevision") == 3 and s["phase"] == "Ready",
    )
    assert status["currentVersion"] == "1.0.0"
    (downgrade,) = market.jobs("downgrade")
    assert job_args(downgrade) == (image("2.0.0"), ["migrate", "downgrade", HEADS["1.0.0"]])
    assert downgrade["metadata"]["labels"]["everythingmarket.io/revision"] == "3"
    assert templates(market) == first
    last = status["history"][-1]
    assert (last["version"], last["migrationHead"], last["outcome"]) == (
        "1.0.0", HEADS["1.0.0"], "Succeeded",
    )  # fmt: skip
    assert "pinned by spec.rollback.toRevision: 1" in market.condition("Ready")["message"]
    market.wait_events("RollbackRequested", "RollbackStarted", "DowngradeSucceeded",
                       "RollbackSucceeded")  # fmt: skip


def test_data_losing_downgrade_needs_allow_data_loss(
    operator: OperatorProcess, played: PlayedKubelet, db_secret: str, market: Market
) -> None:
    def migrate(pod: dict[str, Any]) -> JobResult:
        version = pod["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
        if version == "1.0.0":
            return JobResult(True, report(HEADS["1.0.0"]))
        return JobResult(True, report(HEADS["2.0.0"], HEADS["1.0.0"], data_losing=True))

    played.policies["migrate"] = migrate
    played.policies["downgrade"] = succeed
    install(market)
    upgraded(market)
    market.patch({"version": "1.0.0"})  # back to a recorded version: a rollback

    status = market.wait_phase("Degraded", "DataLossRefused")
    message = market.condition("Ready")["message"]
    assert HEADS["2.0.0"] in message and "no backup is recorded" in message
    assert "allowDataLoss" in message
    assert status["currentVersion"] == "2.0.0" and not market.jobs("downgrade")
    (event,) = market.wait_event("DataLossRefused")
    assert event["type"] == "Warning"

    market.patch({"rollback": {"allowDataLoss": True}})
    status = market.wait_status(
        "1.0.0 serving again",
        lambda s: s.get("currentVersion") == "1.0.0" and s["phase"] == "Ready",
    )
    (downgrade,) = market.jobs("downgrade")
    assert job_args(downgrade)[1] == ["migrate", "downgrade", HEADS["1.0.0"], "--allow-data-loss"]

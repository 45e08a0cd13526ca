"""Drift, scaling and upgrades: the operator keeps the market in the shape its spec says."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.kubelet import wait_for
from tests.support.markets import (
    HEADS,
    JobResult,
    Market,
    PlayedKubelet,
    image,
    install,
    report,
)
from tests.support.operator_process import OperatorProcess

pytestmark = [pytest.mark.k8s, pytest.mark.slow]


def generations(market: Market) -> dict[str, int]:
    result = {}
    for component in ("backend", "orderbook", "reality"):
        found = market.workload(component)
        assert found is not None, component
        result[component] = int(found["metadata"]["generation"])
    return result


def templates(market: Market) -> dict[str, Any]:
    return {
        c: (market.workload(c) or {}).get("spec", {}).get("template")
        for c in ("backend", "orderbook", "reality")
    }


def test_a_deleted_deployment_is_recreated(
    operator: OperatorProcess, played: PlayedKubelet, db_secret: str, market: Market
) -> None:
    install(market)
    before = market.workload("backend")
    assert before is not None
    market.apps.delete_namespaced_deployment("market-backend", market.namespace)

    def recreated() -> dict[str, Any] | None:
        found = market.workload("backend")
        same = found is not None and found["metadata"]["uid"] == before["metadata"]["uid"]
        return None if found is None or same else found

    again = wait_for("market-backend recreated", recreated, timeout=10)
    assert again["spec"]["template"] == before["spec"]["template"]
    market.wait_status("backend available again", lambda s: s["components"]["backend"]["ready"])


def test_replicas_change_only_that_component(
    operator: OperatorProcess, played: PlayedKubelet, db_secret: str, market: Market
) -> None:
    install(market)
    before = generations(market)
    market.patch({"backend": {"replicas": 3}})

    def scaled() -> bool:
        found = market.workload("backend")
        return found is not None and found["spec"]["replicas"] == 3

    wait_for("backend scaled to 3", scaled, timeout=10)
    status = market.wait_status(
        "3 backends available", lambda s: s["components"]["backend"]["availableReplicas"] == 3
    )
    after = generations(market)
    assert after["backend"] == before["backend"] + 1
    assert {k: v for k, v in after.items() if k != "backend"} == {
        k: v for k, v in before.items() if k != "backend"
    }
    assert status["phase"] == "Ready" and status["currentRevision"] == 1  # no rollout
    # Someone scales by hand: the field is the operator's, so the spec wins again.
    market.apps.patch_namespaced_deployment_scale(
        "market-backend", market.namespace, {"spec": {"replicas": 1}}
    )
    wait_for(
        "backend back at 3 replicas",
        lambda: (market.workload("backend") or {}).get("spec", {}).get("replicas") == 3,
        timeout=10,
    )


def test_version_change_migrates_first_then_rolls_out(
    operator: OperatorProcess, played: PlayedKubelet, db_secret: str, market: Market
) -> None:
    install(market)
    before_gen, before_tpl = generations(market), templates(market)
    del played.policies["migrate"]  # this test ends the migration itself
    generation = market.patch({"version": "2.0.0"})["metadata"]["generation"]

    job = market.wait_job("migrate", revision=2, timeout=10)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == image("2.0.0")
    market.wait_status(
        "the operator saw the new version",
        lambda s: (
            s.get("observedGeneration") == generation
            and (s.get("rollout") or {}).get("step") == "Migrating"
        ),
    )
    # The old version keeps serving while the database migrates.
    assert generations(market) == before_gen and templates(market) == before_tpl
    assert market.status()["phase"] == "Migrating"
    assert market.condition("Migrated")["reason"] == "Migrating"

    played.finish_job(
        job["metadata"]["name"], JobResult(True, report(HEADS["2.0.0"], HEADS["1.0.0"]))
    )
    status = market.wait_phase("Ready", "Ready")
    assert status["currentVersion"] == "2.0.0" and status["currentRevision"] == 2
    assert set(market.images().values()) == {image("2.0.0")}
    history = [(h["revision"], h["version"], h["migrationHead"], h["outcome"])
               for h in status["history"]]  # fmt: skip
    assert history == [
        (1, "1.0.0", HEADS["1.0.0"], "Succeeded"),
        (2, "2.0.0", HEADS["2.0.0"], "Succeeded"),
    ]
    assert len(market.jobs("migrate")) == 2 and len(market.jobs("smoke")) == 2


def test_failed_migration_keeps_the_old_version_serving(
    operator: OperatorProcess, played: PlayedKubelet, db_secret: str, market: Market
) -> None:
    install(market)
    before = templates(market)
    played.policies["migrate"] = lambda pod: JobResult(
        False, 'relation "orders" already exists', exit_code=3
    )
    market.patch({"version": "2.0.0"})
    status = market.wait_phase("Degraded", "MigrationFailed")
    ready = market.condition("Ready")
    assert 'relation "orders" already exists' in ready["message"]
    assert "version 1.0.0 keeps serving" in ready["message"]
    migrated = market.condition("Migrated")
    assert migrated["status"] == "False" and migrated["reason"] == "MigrationFailed"
    assert 'relation "orders" already exists' in migrated["message"]
    assert status["currentVersion"] == "1.0.0" and status["lastFailure"]["version"] == "2.0.0"
    assert templates(market) == before  # no rollout
    (event,) = market.wait_event("MigrationFailed")
    assert event["type"] == "Warning" and 'relation "orders"' in event["message"]
    assert len(market.jobs("migrate")) == 2 and not market.jobs("downgrade")

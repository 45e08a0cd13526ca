"""The rollout machine driven through the runbook's procedures, without a cluster."""

from __future__ import annotations

import json
from datetime import timedelta

from em_operator.runbook import migrations, naming, observed, rollout
from tests.support.market_world import MarketWorld, base_spec


def report(head: str, *steps: tuple[str, str, bool]) -> str:
    applied = [{"revision": r, "down": [d], "dataLosing": lossy} for r, d, lossy in steps]
    return json.dumps({"head": head, "applied": applied, "complete": True})


def upgraded(world: MarketWorld, version: str, message: str) -> None:
    """Start an upgrade to `version` and let its migrate Job report `message`."""
    world.edit_spec(version=version)
    world.reconcile()
    assert world.status["phase"] == "Migrating"
    world.finish_job("migrate", message=message)
    world.reconcile()
    assert world.status["phase"] == "RollingOut"


def job_image(world: MarketWorld, name: str) -> str:
    image: str = world.job_manifests[name]["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def test_first_install_migrates_before_any_workload_exists() -> None:
    world = MarketWorld()
    plan = world.reconcile()
    assert world.status["phase"] == "Migrating"
    assert not plan.objects("Deployment") and not plan.objects("StatefulSet")
    assert [j["metadata"]["name"] for j in plan.objects("Job")] == world.created_jobs
    world.finish_job("migrate", message=report("a1", ("a1", "a0", False)))
    plan = world.reconcile()
    assert world.status["phase"] == "RollingOut"
    assert {d["metadata"]["name"] for d in plan.objects("Deployment")} == {
        "market-backend",
        "market-reality",
    }
    world.pods_ready()
    world.reconcile()
    assert world.status["phase"] == "SmokeTesting"
    world.finish_job("smoke")
    world.reconcile()
    assert world.status["phase"] == "Ready"
    assert world.status["currentRevision"] == 1
    assert world.status["history"][0]["migrationHead"] == "a1"
    assert world.condition("Ready")["status"] == "True"
    assert world.reasons() == [
        "RolloutStarted",
        "MigrationStarted",
        "MigrationSucceeded",
        "SmokeTestStarted",
        "SmokeTestSucceeded",
        "RolloutSucceeded",
    ]


def test_upgrade_keeps_the_old_version_serving_until_the_migration_succeeded() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    world.edit_spec(version="1.1.0")
    plan = world.reconcile()
    images = {
        c["image"]
        for d in plan.objects("Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"ghcr.io/everything-market/em:1.0.0"}
    migrate = world.active_job("migrate")
    assert job_image(world, migrate) == "ghcr.io/everything-market/em:1.1.0"
    world.finish_job("migrate", message="b1")
    plan = world.reconcile()
    sts = plan.object("StatefulSet", "market-orderbook")
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.1.0")


def test_migration_failure_stops_the_rollout_and_holds_until_the_spec_changes() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    world.edit_spec(version="1.1.0")
    world.reconcile()
    world.finish_job("migrate", ok=False, message="duplicate column")
    world.reconcile()
    assert world.status["phase"] == "Degraded"
    assert world.status["currentVersion"] == "1.0.0"
    assert world.condition("Ready")["reason"] == "MigrationFailed"
    assert "duplicate column" in world.condition("Migrated")["message"]
    assert world.status["history"][-1]["outcome"] == "Failed"
    world.reconcile()
    assert world.last_plan.objects("Job") == []
    world.edit_spec(rollback={"progressDeadlineSeconds": 900})
    world.reconcile()
    assert world.status["phase"] == "Migrating"
    assert world.status["rollout"]["revision"] == 3


def test_rollout_deadline_rolls_back_with_the_newer_image_then_stays_degraded() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    upgraded(world, "1.1.0", report("b1", ("b1", "a1", False)))
    world.tick(599)
    world.reconcile()
    assert world.status["phase"] == "RollingOut"
    world.tick(2)
    world.reconcile()
    assert world.status["phase"] == "Downgrading"
    assert world.condition("MaintenanceActive")["status"] == "True"
    downgrade = world.active_job("downgrade")
    assert job_image(world, downgrade) == "ghcr.io/everything-market/em:1.1.0"
    args = world.job_manifests[downgrade]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:3] == ["migrate", "downgrade", "a1"]
    world.finish_job("downgrade")
    plan = world.reconcile()
    assert world.status["phase"] == "RollingBack"
    assert plan.object("Deployment", "market-backend")["spec"]["template"]["spec"]["containers"][0][
        "image"
    ].endswith(":1.0.0")
    world.pods_ready()
    world.reconcile()
    assert world.status["phase"] == "SmokeTesting"
    assert world.condition("MaintenanceActive")["status"] == "False"
    world.finish_job("smoke")
    world.reconcile()
    assert world.status["phase"] == "Degraded"
    ready = world.condition("Ready")
    assert ready["reason"] == "RolledBack" and "1.1.0" in ready["message"]
    assert world.status["currentRevision"] == 1
    assert world.status["history"][-1]["outcome"] == "RolledBack"
    world.tick(3600)
    world.reconcile()
    assert world.status["phase"] == "Degraded" and world.last_plan.objects("Job") == []
    world.edit_spec(version="1.1.1")
    world.reconcile()
    assert world.status["phase"] == "Migrating"


def test_failed_smoke_test_without_automatic_rollback_leaves_the_new_version() -> None:
    world = MarketWorld(base_spec(rollback={"automatic": False}))
    world.install("1.0.0", "a1")
    upgraded(world, "1.1.0", "b1")
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke", ok=False, message="GET /health: 500")
    world.reconcile()
    assert world.status["phase"] == "Degraded"
    assert world.condition("Ready")["reason"] == "SmokeTestFailed"
    assert world.status["currentVersion"] == "1.1.0"
    assert world.status["currentRevision"] == 2


def test_automatic_rollback_refuses_a_data_losing_downgrade() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    world.status["lastBackup"] = {"name": "nightly-7", "completedAt": "2025-11-22T02:00:00Z"}
    upgraded(world, "1.1.0", report("b1", ("b1", "a1", True)))
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke", ok=False)
    world.reconcile()
    assert world.status["phase"] == "Degraded"
    ready = world.condition("Ready")
    assert ready["reason"] == "DataLossRefused"
    assert "b1" in ready["message"] and "nightly-7" in ready["message"]
    assert world.status["currentVersion"] == "1.1.0"
    assert "downgrade" not in {j.split("-")[1] for j in world.created_jobs}


def test_manual_rollback_to_a_revision_downgrades_with_the_current_image() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    upgraded(world, "1.1.0", report("b1", ("b1", "a1", False)))
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke")
    world.reconcile()
    assert world.status["currentRevision"] == 2
    world.edit_spec(rollback={"toRevision": 1})
    world.reconcile()
    assert world.status["phase"] == "Downgrading"
    assert job_image(world, world.active_job("downgrade")).endswith(":1.1.0")
    world.finish_job("downgrade")
    world.reconcile()
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke")
    world.reconcile()
    assert world.status["phase"] == "Ready"
    assert world.status["currentVersion"] == "1.0.0"
    assert world.status["currentRevision"] == 3
    assert world.status["history"][-1]["migrationHead"] == "a1"
    assert "RollbackSucceeded" in world.reasons()
    world.reconcile()
    assert world.status["phase"] == "Ready" and world.last_plan.objects("Job") == []


def test_setting_the_version_back_is_a_rollback_and_forward_again_an_upgrade() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    upgraded(world, "1.1.0", report("b1", ("b1", "a1", False)))
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke")
    world.reconcile()
    world.edit_spec(version="1.0.0")
    world.reconcile()
    assert world.status["rollout"]["kind"] == "Rollback"
    assert world.status["phase"] == "Downgrading"
    world.finish_job("downgrade")
    world.reconcile()
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke")
    world.reconcile()
    world.edit_spec(version="1.1.0")
    world.reconcile()
    assert world.status["rollout"]["kind"] == "Upgrade"
    assert world.status["phase"] == "Migrating"


def test_data_losing_manual_rollback_is_refused_until_allowed() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    upgraded(world, "1.1.0", report("b1", ("b1", "a1", True)))
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke")
    world.reconcile()
    world.edit_spec(rollback={"toRevision": 1})
    world.reconcile()
    assert world.status["phase"] == "Degraded"
    assert world.condition("Ready")["reason"] == "DataLossRefused"
    assert "no backup is recorded" in world.condition("Ready")["message"]
    world.edit_spec(rollback={"allowDataLoss": True})
    world.reconcile()
    downgrade = world.active_job("downgrade")
    args = world.job_manifests[downgrade]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--allow-data-loss" in args


def test_an_unknown_revision_is_an_invalid_spec() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    world.edit_spec(rollback={"toRevision": 7})
    plan = world.reconcile()
    assert world.condition("Ready")["reason"] == "UnknownRevision"
    assert plan.apply == () and plan.events[0].type == "Warning"
    assert world.status["phase"] == "Degraded"


def test_missing_database_secret_blocks_everything_and_says_which() -> None:
    world = MarketWorld()
    world.secrets = {}
    plan = world.reconcile()
    assert plan.apply == ()
    assert world.status["phase"] == "Pending"
    ready = world.condition("Ready")
    assert ready["reason"] == "DatabaseSecretMissing" and "shop/market-db" in ready["message"]
    assert [e.reason for e in plan.events] == ["DatabaseSecretMissing"]
    world.reconcile()
    assert world.last_plan.events == ()
    world.secrets = {"market-db": frozenset({"URL"})}
    world.reconcile()
    assert world.condition("Ready")["reason"] == "DatabaseSecretKeyMissing"


def test_same_inputs_give_the_same_plan() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    world.edit_spec(version="1.1.0")
    inputs = world.inputs()
    assert rollout.plan(inputs) == rollout.plan(inputs)


def test_a_restarted_operator_finds_its_job_instead_of_creating_another() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    world.edit_spec(version="1.1.0")
    world.reconcile()
    migrate = world.active_job("migrate")
    for _ in range(3):
        world.tick(5)
        assert world.reconcile().objects("Job") == []
    assert world.active_job("migrate") == migrate


def test_a_job_deleted_before_the_status_moved_on_is_recreated_under_the_same_name() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    world.edit_spec(version="1.1.0")
    world.reconcile()
    migrate = world.active_job("migrate")
    del world.jobs[migrate]
    world.created_jobs.remove(migrate)
    plan = world.reconcile()
    assert [j["metadata"]["name"] for j in plan.objects("Job")] == [migrate]


def test_scaling_applies_at_once_without_a_rollout() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    world.edit_spec(backend={"replicas": 5})
    plan = world.reconcile()
    assert plan.object("Deployment", "market-backend")["spec"]["replicas"] == 5
    assert "rollout" not in world.status and plan.objects("Job") == []


def test_waiting_steps_ask_to_be_requeued_and_idle_ones_do_not() -> None:
    world = MarketWorld()
    assert world.reconcile().requeue_after == 10.0
    world.finish_job("migrate", message="a1")
    world.reconcile()
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke")
    assert world.reconcile().requeue_after is None


def test_deadline_exceeded_reported_by_a_workload_fails_before_the_clock_does() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    upgraded(world, "1.1.0", "a1")
    state = world.workloads["backend"]
    world.workloads["backend"] = observed.WorkloadState(
        image=state.image, replicas=state.replicas, stuck_since=world.now + timedelta(seconds=1)
    )
    world.reconcile()
    assert world.status["phase"] == "RollingBack"
    assert "backend 0/2 available" in world.status["rollout"]["failure"]["message"]


def test_a_deadline_verdict_from_before_the_step_is_not_about_it() -> None:
    """The Deployment controller keeps ProgressDeadlineExceeded after a rollback to an
    older ReplicaSet until progress is seen; that must not fail the rollback at once."""
    world = MarketWorld()
    world.install("1.0.0", "a1")
    upgraded(world, "1.1.0", "a1")
    state = world.workloads["backend"]
    world.workloads["backend"] = observed.WorkloadState(
        image=state.image, replicas=state.replicas, stuck_since=world.now - timedelta(seconds=5)
    )
    world.reconcile()
    assert world.status["phase"] == "RollingOut" and "failure" not in world.status["rollout"]


def test_maintenance_from_the_spec_is_reported_and_handed_to_the_plan() -> None:
    world = MarketWorld(base_spec(maintenance={"enabled": True, "message": "Back at 3"}))
    world.install("1.0.0", "a1")
    assert world.status["maintenance"]["active"] is True
    assert world.last_plan.maintenance["message"] == "Back at 3"
    control = world.last_plan.object("ConfigMap", "market-control")
    assert control["data"]["MAINTENANCE_MODE"] == "true"


def test_components_going_down_turn_ready_false_with_an_event() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    world.workloads["orderbook"] = observed.WorkloadState(
        image=world.workloads["orderbook"].image, replicas=1
    )
    world.reconcile()
    assert world.status["phase"] == "Degraded"
    assert world.condition("Ready")["reason"] == "ComponentsUnavailable"
    assert world.reasons()[-1] == "ComponentsUnavailable"
    world.pods_ready("orderbook")
    world.reconcile()
    assert world.status["phase"] == "Ready" and world.reasons()[-1] == "ComponentsAvailable"


def test_the_catalog_passed_in_marks_migrations_data_losing() -> None:
    world = MarketWorld()
    world.install("1.0.0", "a1")
    upgraded(world, "1.1.0", report("b1", ("b1", "a1", False)))
    world.catalog = migrations.MigrationCatalog(data_losing=frozenset({"b1"}))
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke", ok=False)
    world.reconcile()
    assert world.condition("Ready")["reason"] == "DataLossRefused"


def test_serving_version_per_step() -> None:
    upgrade = {"kind": "Upgrade", "version": "2", "fromVersion": "1"}
    assert rollout.serving_version({**upgrade, "step": "Migrating"}, "1") == "1"
    assert rollout.serving_version({**upgrade, "step": "RollingOut"}, "1") == "2"
    failed = {**upgrade, "failure": {"reason": "SmokeTestFailed"}}
    assert rollout.serving_version({**failed, "step": "Downgrading"}, "1") == "2"
    assert rollout.serving_version({**failed, "step": "RollingBack"}, "1") == "1"
    back = {"kind": "Rollback", "version": "1", "fromVersion": "2"}
    assert rollout.serving_version({**back, "step": "Downgrading"}, "2") == "2"
    assert rollout.serving_version({**back, "step": "RollingBack"}, "2") == "1"
    assert rollout.serving_version(None, "3") == "3"


def test_job_names_carry_the_market_and_revision() -> None:
    world = MarketWorld()
    world.reconcile()
    (name,) = world.created_jobs
    assert name.startswith("market-migrate-r1-") and len(name) <= naming.MAX_NAME


def test_with_plain_head_reports_the_downgrade_job_guards_data_loss() -> None:
    """`em migrate` reports only the head: the rollback goes ahead and the Job refuses."""
    world = MarketWorld()
    world.install("1.0.0", "0001")
    upgraded(world, "1.1.0", "0002")
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke", ok=False, message="FAIL backend: /health answered 500")
    world.reconcile()
    assert world.status["phase"] == "Downgrading"
    args = world.job_manifests[world.active_job("downgrade")]["spec"]["template"]["spec"][
        "containers"
    ][0]["args"]
    assert args == ["migrate", "downgrade", "0001"]
    world.finish_job(
        "downgrade",
        ok=False,
        message=(
            "em migrate: downgrade would undo data-losing revisions 0002; "
            "pass allow_data_loss=True to proceed"
        ),
    )
    world.reconcile()
    assert world.status["phase"] == "Degraded"
    assert world.condition("Ready")["reason"] == "DataLossRefused"
    assert world.status["currentVersion"] == "1.1.0"


def test_with_plain_head_reports_history_order_tells_back_from_forward() -> None:
    world = MarketWorld()
    world.install("1.0.0", "0001")
    upgraded(world, "1.1.0", "0002")
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke")
    world.reconcile()
    world.edit_spec(version="1.0.0")
    world.reconcile()
    assert world.status["rollout"]["kind"] == "Rollback"
    world.finish_job("downgrade", message="0001")
    world.reconcile()
    world.pods_ready()
    world.reconcile()
    world.finish_job("smoke")
    world.reconcile()
    assert world.status["phase"] == "Ready"
    world.edit_spec(version="1.1.0")
    world.reconcile()
    assert world.status["rollout"]["kind"] == "Upgrade"

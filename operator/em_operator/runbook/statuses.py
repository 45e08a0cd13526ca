"""The status a reconcile writes: phase, conditions, components and history.

The phase is a summary for `kubectl get`; the conditions carry the detail, each
with a reason a person (or an alert rule) can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from em_operator.runbook import (
    conditions,
    desired,
    naming,
    observed,
    outcomes,
    plans,
    specs,
    steps,
)

PENDING = "Pending"
READY = "Ready"
DEGRADED = "Degraded"
FAILED = "Failed"

COMPONENTS_UNAVAILABLE = "ComponentsUnavailable"
FATAL = (outcomes.DOWNGRADE_FAILED, outcomes.ROLLBACK_FAILED)


@dataclass(frozen=True)
class Facts:
    market: naming.MarketRef
    spec: specs.MarketSpec
    previous: Mapping[str, Any]
    now: datetime
    world: observed.Observed
    version: str | None
    machine: steps.Machine
    maintenance: Mapping[str, Any]


def components(facts: Facts) -> dict[str, dict[str, Any]]:
    want = desired.replicas(facts.spec)
    result = {}
    for name in naming.COMPONENTS:
        state = facts.world.workload(name)
        result[name] = {
            "replicas": want[name],
            "readyReplicas": state.ready,
            "availableReplicas": state.available,
            "updatedReplicas": state.updated,
            "version": outcomes.tag(state.image),
            "ready": state.exists and state.current and state.available >= want[name],
        }
    return result


def _summary(facts: Facts) -> tuple[str, conditions.Status, str, str]:
    """(phase, Ready status, reason, message)."""
    machine = facts.machine
    rollout = machine.rollout
    if rollout is not None:
        step = str(rollout["step"])
        what = "Rolling back" if machine.rolling_back(rollout) else "Upgrading"
        # An automatic rollback heads back to the version it came from.
        target = rollout["fromVersion"] if rollout.get("failure") else rollout["version"]
        return (
            step,
            "False",
            step,
            f"{what} to version {target} as revision {rollout['revision']}: {step}",
        )
    failure = machine.last_failure
    if failure is not None and machine.gated():
        reason = str(failure["reason"])
        fatal = reason in FATAL or machine.current_revision is None
        return (FAILED if fatal else DEGRADED), "False", reason, str(failure["message"])
    if machine.current_revision is None:
        return PENDING, "False", "NotInstalled", "No version has been deployed yet"
    down = [name for name in naming.COMPONENTS if not facts.world.workload(name).serving()]
    if down:
        return (
            DEGRADED,
            "False",
            COMPONENTS_UNAVAILABLE,
            (f"No available pod in: {', '.join(down)}"),
        )
    pinned = facts.spec.rollback.to_revision
    note = f" (pinned by spec.rollback.toRevision: {pinned})" if pinned is not None else ""
    return (
        READY,
        "True",
        READY,
        (f"Version {machine.current_version} serves as revision {machine.current_revision}{note}"),
    )


def build(facts: Facts) -> dict[str, Any]:
    machine, generation, now = facts.machine, facts.market.generation, facts.now
    phase, ready, reason, message = _summary(facts)
    found = conditions.set_condition(
        facts.previous.get("conditions"), conditions.READY, ready, reason, message, now, generation
    )
    comps = components(facts)
    if facts.version is None:
        found = conditions.set_condition(
            found,
            conditions.AVAILABLE,
            "Unknown",
            "NotDeployed",
            "The workloads wait for the first migration",
            now,
            generation,
        )
    else:
        short = [
            f"{n} {c['availableReplicas']}/{c['replicas']}"
            for n, c in comps.items()
            if not c["ready"]
        ]
        found = conditions.set_condition(
            found,
            conditions.AVAILABLE,
            "False" if short else "True",
            "ReplicasUnavailable" if short else "AllReplicasAvailable",
            f"Available: {', '.join(short)}" if short else "Every component has all replicas",
            now,
            generation,
        )
    found = _migrated(facts, found)
    rollout = machine.rollout
    if rollout is not None:
        found = conditions.set_condition(
            found, conditions.PROGRESSING, "True", str(rollout["step"]), message, now, generation
        )
    else:
        progress = reason if reason != READY and phase != PENDING else "Complete"
        found = conditions.set_condition(
            found, conditions.PROGRESSING, "False", progress, message, now, generation
        )
    switch = facts.maintenance
    found = conditions.set_condition(
        found,
        conditions.MAINTENANCE,
        "True" if switch.get("enabled") else "False",
        str(switch.get("reason") or "Disabled"),
        str(switch.get("message") or ""),
        now,
        generation,
    )
    return {
        "phase": phase,
        "observedGeneration": generation,
        "conditions": found,
        "currentRevision": machine.current_revision,
        "currentVersion": machine.current_version,
        "history": machine.history,
        "rollout": rollout,
        "lastFailure": machine.last_failure,
        "components": comps,
        "maintenance": {
            "active": bool(switch.get("enabled")),
            "reason": switch.get("reason"),
            "message": switch.get("message") or "",
            "until": switch.get("until"),
        },
    }


def _migrated(facts: Facts, found: list[conditions.Condition]) -> list[conditions.Condition]:
    machine, now, generation = facts.machine, facts.now, facts.market.generation
    rollout = machine.rollout
    step = rollout["step"] if rollout else None
    failure = machine.last_failure
    current = next((e for e in machine.history if e["revision"] == machine.current_revision), None)
    head = current.get("migrationHead") if current else None
    if step in (outcomes.MIGRATING, outcomes.DOWNGRADING):
        return conditions.set_condition(
            found,
            conditions.MIGRATED,
            "False",
            step,
            f"{step}; the database is changing",
            now,
            generation,
        )
    if failure is not None and machine.gated() and failure["reason"] == outcomes.MIGRATION_FAILED:
        return conditions.set_condition(
            found,
            conditions.MIGRATED,
            "False",
            outcomes.MIGRATION_FAILED,
            str(failure["message"]),
            now,
            generation,
        )
    if head:
        return conditions.set_condition(
            found,
            conditions.MIGRATED,
            "True",
            "AtHead",
            f"Database at migration head {head}",
            now,
            generation,
        )
    return conditions.set_condition(
        found,
        conditions.MIGRATED,
        "Unknown",
        "NotMigrated",
        "No migration has run yet",
        now,
        generation,
    )


def ready_events(previous: Mapping[str, Any], status: Mapping[str, Any]) -> list[plans.Event]:
    """Events for changes no rollout step reports: components going down or coming back."""
    before = conditions.find(previous.get("conditions"), conditions.READY) or {}
    after = conditions.find(status.get("conditions"), conditions.READY) or {}
    if after.get("reason") == before.get("reason"):
        return []
    if after.get("reason") == COMPONENTS_UNAVAILABLE:
        return [plans.Event("Warning", COMPONENTS_UNAVAILABLE, str(after.get("message")))]
    if before.get("reason") == COMPONENTS_UNAVAILABLE and after.get("status") == "True":
        return [plans.Event("Normal", "ComponentsAvailable", str(after.get("message")))]
    return []

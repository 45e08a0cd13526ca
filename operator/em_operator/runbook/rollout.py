"""The rollout state machine: the runbook's deploy and rollback procedures as code.

    Ready ──version changed──▶ Migrating ─▶ RollingOut ─▶ SmokeTesting ─▶ Ready
                                  │ fails        │ deadline       │ fails
                                  ▼              ▼                ▼
                          Degraded/MigrationFailed   (automatic rollback)
                                   Downgrading ─▶ RollingBack ─▶ SmokeTesting
                                   (newer image)                  ▼
                                                  Degraded/RolledBack (until the spec changes)

Everything the machine needs to resume lives in `status.rollout`; the world
(Jobs, workloads, the clock) is an input. So the same inputs give the same
plan, and an operator restarted at any point picks up where it stopped: the
Jobs it wants have deterministic names and are found rather than recreated.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from em_operator import errors
from em_operator.runbook import (
    conditions,
    desired,
    migrations,
    naming,
    observed,
    outcomes,
    plans,
    prerequisites,
    specs,
    statuses,
)
from em_operator.runbook import steps as steps_

MIGRATING = outcomes.MIGRATING
ROLLING_OUT = outcomes.ROLLING_OUT
SMOKE_TESTING = outcomes.SMOKE_TESTING
DOWNGRADING = outcomes.DOWNGRADING
ROLLING_BACK = outcomes.ROLLING_BACK

BLOCKED_REQUEUE = 30.0


@dataclass(frozen=True)
class Inputs:
    market: naming.MarketRef
    spec: Mapping[str, Any]
    status: Mapping[str, Any]
    observed: observed.Observed
    now: datetime
    token: Callable[[], str]
    catalog: migrations.MigrationCatalog = field(default_factory=migrations.MigrationCatalog)


serving_version = outcomes.serving_version


def maintenance(spec: specs.MarketSpec, rollout: Mapping[str, Any] | None) -> dict[str, Any]:
    """The effective maintenance switch: the spec's, or forced on around a downgrade."""
    forced = bool(
        rollout and rollout.get("downgrade") and rollout.get("step") in (DOWNGRADING, ROLLING_BACK)
    )
    if spec.maintenance.enabled or not forced:
        return {
            "enabled": spec.maintenance.enabled,
            "message": spec.maintenance.message,
            "until": spec.maintenance.until,
            "reason": "Requested" if spec.maintenance.enabled else "Disabled",
        }
    assert rollout is not None  # forced
    target = rollout["fromVersion"] if rollout.get("failure") else rollout["version"]
    return {
        "enabled": True,
        "until": None,
        "reason": "Downgrade",
        "message": f"Rolling back to version {target}; trading resumes in a few minutes.",
    }


def plan(inputs: Inputs) -> plans.Plan:
    """The next step for one market; see the module docstring for the machine."""
    try:
        spec = specs.parse(inputs.spec)
    except errors.InvalidSpec as exc:
        return _blocked(inputs, exc.reason, str(exc))
    problem = prerequisites.check(spec, inputs.observed, inputs.market.namespace)
    if problem is not None:
        return _blocked(inputs, problem.reason, problem.message)
    catalog = inputs.catalog.merged(migrations.catalog_from_status(inputs.status))
    machine = steps_.Machine(
        inputs.market, spec, inputs.status, inputs.observed, inputs.now, catalog
    )
    try:
        machine.run()
    except errors.InvalidSpec as exc:
        return _blocked(inputs, exc.reason, str(exc))
    rollout = machine.rollout
    version = serving_version(rollout, machine.current_version)
    switch = maintenance(spec, rollout)
    objects = desired.build(
        inputs.market, spec, version, inputs.observed.app_secret, inputs.token, switch
    )
    status = statuses.build(
        statuses.Facts(
            market=inputs.market,
            spec=spec,
            previous=inputs.status,
            now=inputs.now,
            world=inputs.observed,
            version=version,
            machine=machine,
            maintenance=switch,
        )
    )
    events = list(machine.events)
    events += statuses.ready_events(inputs.status, status)
    return plans.Plan(
        apply=(*objects, *machine.jobs),
        status=status,
        events=tuple(events),
        requeue_after=machine.requeue_after,
        maintenance=switch,
    )


def _blocked(inputs: Inputs, reason: str, message: str) -> plans.Plan:
    """Touch nothing, say why, look again soon; a rollout in flight stays paused."""
    status = copy.deepcopy(dict(inputs.status))
    generation = inputs.market.generation
    rollout = status.get("rollout")
    if rollout:
        phase = str(rollout["step"])
    else:
        phase = statuses.PENDING if not status.get("currentRevision") else statuses.DEGRADED
    found = conditions.set_condition(
        status.get("conditions"), conditions.READY, "False", reason, message, inputs.now, generation
    )
    patch: dict[str, Any] = {
        "phase": phase,
        "observedGeneration": generation,
        "conditions": found,
    }
    previous = conditions.find(inputs.status.get("conditions"), conditions.READY)
    events: tuple[plans.Event, ...] = ()
    if previous is None or previous.get("reason") != reason:
        events = (plans.Event("Warning", reason, message),)
    return plans.Plan(status=patch, events=events, requeue_after=BLOCKED_REQUEUE)

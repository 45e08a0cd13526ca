"""One pass of the rollout machine over `status.rollout` (see `rollout` for the map).

`Machine.run` starts an operation when the spec asks for one, then advances it
as far as the observed world allows: it stops at the first step that has to
wait (a Job running, pods not yet available) and records why in `requeue_after`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from em_operator import errors
from em_operator.runbook import (
    conditions,
    desired,
    history,
    jobs,
    migrations,
    naming,
    observed,
    plans,
    specs,
)
from em_operator.runbook.outcomes import (
    DOWNGRADE_FAILED,
    DOWNGRADING,
    MIGRATING,
    MIGRATION_FAILED,
    PROGRESS_DEADLINE_EXCEEDED,
    ROLLING_BACK,
    ROLLING_OUT,
    SMOKE_TEST_FAILED,
    SMOKE_TESTING,
    WAIT,
    Outcomes,
)

MAX_STEPS = 8


class Machine(Outcomes):
    def __init__(
        self,
        market: naming.MarketRef,
        spec: specs.MarketSpec,
        status: Mapping[str, Any],
        world: observed.Observed,
        now: datetime,
        catalog: migrations.MigrationCatalog,
    ) -> None:
        self.market, self.spec, self.status = market, spec, status
        self.world, self.now, self.catalog = world, now, catalog
        self.history: list[history.Entry] = copy.deepcopy(history.entries(status))
        self.current_revision: int | None = status.get("currentRevision")
        self.current_version: str | None = status.get("currentVersion")
        self.rollout: dict[str, Any] | None = copy.deepcopy(status.get("rollout")) or None
        self.last_failure: dict[str, Any] | None = copy.deepcopy(status.get("lastFailure")) or None
        self.jobs: list[dict[str, Any]] = []
        self.events: list[plans.Event] = []
        self.requeue_after: float | None = None

    # -- driving -------------------------------------------------------------------------

    def gated(self) -> bool:
        """A failed or refused operation holds until the spec changes."""
        failure = self.last_failure
        return bool(failure and failure.get("generation") == self.market.generation)

    def run(self) -> None:
        if self.rollout is None:
            self._start()
        for _ in range(MAX_STEPS):
            if self.rollout is None or not self._advance(self.rollout):
                return

    # -- starting ------------------------------------------------------------------------

    def _start(self) -> None:
        if self.gated():
            return
        target = history.choose(self.spec, self.status, self.catalog)
        if target is None:
            self.last_failure = None
            return
        if isinstance(target, history.Refusal):
            self.last_failure = {
                "generation": self.market.generation,
                "reason": target.reason,
                "message": target.message,
                "version": self.spec.version,
            }
            self._event("Warning", target.reason, target.message)
            return
        self.last_failure = None
        revision = history.next_revision(self.history, self.current_revision)
        stamp = conditions.timestamp(self.now)
        rollout: dict[str, Any] = {
            "kind": target.kind,
            "revision": revision,
            "version": target.version,
            "generation": self.market.generation,
            "startedAt": stamp,
            "downgrade": target.downgrade,
            "allowDataLoss": self.spec.rollback.allow_data_loss,
        }
        current = history.find(self.history, self.current_revision)
        if current is not None and self.current_version:
            rollout["fromRevision"] = self.current_revision
            rollout["fromVersion"] = self.current_version
            if current.get("migrationHead"):
                rollout["fromMigrationHead"] = current["migrationHead"]
        was = (
            f"version {self.current_version} (revision {self.current_revision})"
            if "fromVersion" in rollout
            else "nothing"
        )
        if target.kind == history.ROLLBACK:
            rollout["migrationHead"] = target.migration_head
            rollout["sourceRevision"] = target.source_revision
            self._goto(rollout, DOWNGRADING if target.downgrade else ROLLING_BACK)
            self._event(
                "Normal",
                "RollbackStarted",
                f"Rolling back from {was} to revision {target.source_revision} "
                f"(version {target.version}) as revision {revision}",
            )
        else:
            self._goto(rollout, MIGRATING)
            self._event(
                "Normal",
                "RolloutStarted",
                f"Upgrading from {was} to version {target.version} as revision {revision}",
            )
        self.rollout = rollout

    # -- advancing -----------------------------------------------------------------------

    def _advance(self, rollout: dict[str, Any]) -> bool:
        step = rollout["step"]
        if step == MIGRATING:
            return self._migrating(rollout)
        if step in (ROLLING_OUT, ROLLING_BACK):
            return self._rolling(rollout)
        if step == SMOKE_TESTING:
            return self._smoke_testing(rollout)
        if step == DOWNGRADING:
            return self._downgrading(rollout)
        raise errors.InvalidSpec("status.rollout.step", f"unknown step {step!r}")

    def _job(self, request: jobs.JobRequest) -> tuple[str, observed.JobState]:
        name = jobs.name(self.market, request)
        state = self.world.job(name)
        if state.phase == observed.JobPhase.ABSENT:
            self.jobs.append(jobs.build(self.market, self.spec, request))
        return name, state

    def _migrating(self, rollout: dict[str, Any]) -> bool:
        version = str(rollout["version"])
        request = jobs.JobRequest(jobs.MIGRATE, rollout["revision"], version, rollout["generation"])
        name, state = self._job(request)
        if state.phase == observed.JobPhase.ABSENT:
            self._event(
                "Normal",
                "MigrationStarted",
                f"Job {name} runs `em migrate upgrade head` with image "
                f"{self.spec.image_for(version)}",
            )
            return self._wait()
        if state.phase == observed.JobPhase.ACTIVE:
            return self._wait()
        if state.phase == observed.JobPhase.FAILED:
            kept = (
                f"version {rollout['fromVersion']} keeps serving"
                if rollout.get("fromVersion")
                else "nothing was deployed"
            )
            return self._fail(
                rollout,
                MIGRATION_FAILED,
                f"Job {name} failed: {state.message or 'no message'}; {kept}",
            )
        try:
            report = migrations.parse_report(state.message)
        except errors.InvalidReport as exc:
            return self._fail(rollout, MIGRATION_FAILED, f"Job {name} succeeded but {exc}")
        rollout["migrationHead"] = report.head
        if report.applied:
            rollout["migrations"] = [step.to_status() for step in report.applied]
        self.catalog = self.catalog.merged(migrations.MigrationCatalog.of(report.applied))
        self._event(
            "Normal",
            "MigrationSucceeded",
            f"Database at migration head {report.head} "
            f"({len(report.applied)} migration(s) applied by {name})",
        )
        return self._goto(rollout, ROLLING_OUT)

    def _rolling(self, rollout: dict[str, Any]) -> bool:
        version = str(self.serving(rollout))
        image = self.spec.image_for(version)
        want = desired.replicas(self.spec)
        lagging = [
            c for c in naming.COMPONENTS if not self.world.workload(c).rolled_out(image, want[c])
        ]
        if not lagging:
            if self.spec.rollback.smoke_test:
                return self._goto(rollout, SMOKE_TESTING)
            return self._succeed(rollout)
        started = conditions.parse_time(rollout.get("stepStartedAt")) or self.now
        elapsed = (self.now - started).total_seconds()
        deadline = self.spec.rollback.progress_deadline_seconds
        stuck = [c for c in lagging if self._stuck(c, image, started)]
        if elapsed < deadline and not stuck:
            return self._wait(min(WAIT, deadline - elapsed + 1))
        detail = ", ".join(
            f"{c} {self.world.workload(c).available}/{want[c]} available" for c in lagging
        )
        return self._fail(
            rollout,
            PROGRESS_DEADLINE_EXCEEDED,
            f"version {version} not available within {deadline}s: {detail}",
        )

    def _stuck(self, component: str, image: str, started: datetime) -> bool:
        state = self.world.workload(component)
        since = state.stuck_since
        return state.image == image and since is not None and since > started

    def _smoke_testing(self, rollout: dict[str, Any]) -> bool:
        version = str(self.serving(rollout))
        purpose = "rollback" if self.rolling_back(rollout) else "upgrade"
        request = jobs.JobRequest(
            jobs.SMOKE, rollout["revision"], version, rollout["generation"], purpose
        )
        name, state = self._job(request)
        if state.phase == observed.JobPhase.ABSENT:
            self._event(
                "Normal",
                "SmokeTestStarted",
                f"Job {name} runs `em smoke` against version {version}",
            )
            return self._wait()
        if state.phase == observed.JobPhase.ACTIVE:
            return self._wait()
        if state.phase == observed.JobPhase.FAILED:
            return self._fail(
                rollout,
                SMOKE_TEST_FAILED,
                f"Job {name} failed against version {version}: {state.message or 'no message'}",
            )
        self._event("Normal", "SmokeTestSucceeded", f"Job {name} passed against {version}")
        return self._succeed(rollout)

    def _downgrading(self, rollout: dict[str, Any]) -> bool:
        newer = str(self.serving(rollout))
        head = (
            rollout["fromMigrationHead"]
            if rollout["kind"] == history.UPGRADE
            else rollout["migrationHead"]
        )
        request = jobs.JobRequest(
            jobs.DOWNGRADE,
            rollout["revision"],
            newer,
            rollout["generation"],
            str(head),
            bool(rollout.get("allowDataLoss")),
        )
        name, state = self._job(request)
        if state.phase == observed.JobPhase.ABSENT:
            self._event(
                "Normal",
                "DowngradeStarted",
                f"Job {name} runs `em migrate downgrade {head}` with the newer image "
                f"{self.spec.image_for(newer)}, which knows both heads",
            )
            return self._wait()
        if state.phase == observed.JobPhase.ACTIVE:
            return self._wait()
        if state.phase == observed.JobPhase.FAILED:
            return self._fail(
                rollout, DOWNGRADE_FAILED, f"Job {name} failed: {state.message or 'no message'}"
            )
        self._event("Normal", "DowngradeSucceeded", f"Database downgraded to {head} by {name}")
        return self._goto(rollout, ROLLING_BACK)

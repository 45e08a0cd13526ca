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

MIGRATING = "Migrating"
ROLLING_OUT = "RollingOut"
SMOKE_TESTING = "SmokeTesting"
DOWNGRADING = "Downgrading"
ROLLING_BACK = "RollingBack"

MIGRATION_FAILED = "MigrationFailed"
PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
SMOKE_TEST_FAILED = "SmokeTestFailed"
DOWNGRADE_FAILED = "DowngradeFailed"
ROLLBACK_FAILED = "RollbackFailed"
ROLLED_BACK = "RolledBack"

WAIT = 10.0
MAX_STEPS = 8


def tag(image: str | None) -> str | None:
    if image is None or ":" not in image.rsplit("/", 1)[-1]:
        return None
    return image.rsplit(":", 1)[1]


def serving_version(rollout: Mapping[str, Any] | None, current: str | None) -> str | None:
    """The version the workloads should run right now.

    The old version serves while the new one migrates; the newer one serves
    while the database is downgraded under it (it knows both heads).
    """
    if not rollout:
        return current
    step, kind = rollout["step"], rollout["kind"]
    previous = rollout.get("fromVersion")
    if kind == history.UPGRADE:
        if step == MIGRATING:
            return previous if isinstance(previous, str) else None
        if rollout.get("failure") and step in (ROLLING_BACK, SMOKE_TESTING):
            return str(previous)
        return str(rollout["version"])
    return str(previous) if step == DOWNGRADING else str(rollout["version"])


class Machine:
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

    def _event(self, type_: plans.EventType, reason: str, message: str) -> None:
        self.events.append(plans.Event(type_, reason, message))

    def _wait(self, seconds: float = WAIT) -> bool:
        seconds = max(1.0, seconds)
        self.requeue_after = min(self.requeue_after or seconds, seconds)
        return False

    def _goto(self, rollout: dict[str, Any], step: str) -> bool:
        rollout["step"] = step
        rollout["stepStartedAt"] = conditions.timestamp(self.now)
        return True

    def serving(self, rollout: Mapping[str, Any]) -> str | None:
        return serving_version(rollout, self.current_version)

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
        stuck = [
            c
            for c in lagging
            if self.world.workload(c).deadline_exceeded and self.world.workload(c).image == image
        ]
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

    @staticmethod
    def rolling_back(rollout: Mapping[str, Any]) -> bool:
        return rollout["kind"] == history.ROLLBACK or bool(rollout.get("failure"))

    # -- ending ----------------------------------------------------------------------------

    def _fail(self, rollout: dict[str, Any], reason: str, message: str) -> bool:
        automatic = (
            self.spec.rollback.automatic
            and not self.rolling_back(rollout)
            and rollout["step"] != MIGRATING
            and rollout.get("fromVersion")
        )
        if not automatic:
            if self.rolling_back(rollout) and reason != DOWNGRADE_FAILED:
                reason = ROLLBACK_FAILED
            self._event("Warning", reason, message)
            return self._finish(rollout, history.FAILED, reason, message)
        new_head, old_head = rollout.get("migrationHead"), rollout.get("fromMigrationHead")
        undone = None if not (new_head and old_head) else self.catalog.undone(new_head, old_head)
        losing = () if undone is None else self.catalog.losing(undone)
        downgrade = new_head != old_head
        if downgrade and (undone is None or losing) and not self.spec.rollback.allow_data_loss:
            what = (
                f"undoes data-losing migrations {', '.join(losing)}"
                if losing
                else f"from {new_head} to {old_head} crosses unrecorded migrations"
            )
            refusal = (
                f"{message}. The automatic rollback was refused: its downgrade {what}; "
                f"{history.backup_hint(self.status)}. Set "
                "spec.rollback.allowDataLoss: true or roll forward."
            )
            self._event("Warning", history.DATA_LOSS_REFUSED, refusal)
            return self._finish(rollout, history.FAILED, history.DATA_LOSS_REFUSED, refusal)
        rollout["failure"] = {"reason": reason, "message": message}
        self._event(
            "Warning",
            reason,
            f"{message}; rolling back automatically to revision "
            f"{rollout['fromRevision']} (version {rollout['fromVersion']})",
        )
        if not downgrade:
            return self._goto(rollout, ROLLING_BACK)
        rollout["downgrade"] = True
        rollout["allowDataLoss"] = self.spec.rollback.allow_data_loss
        return self._goto(rollout, DOWNGRADING)

    def _succeed(self, rollout: dict[str, Any]) -> bool:
        failure = rollout.get("failure")
        if failure:
            message = (
                f"Version {rollout['version']} failed ({failure['reason']}: "
                f"{failure['message']}); rolled back to revision {rollout['fromRevision']}"
                f" (version {rollout['fromVersion']}). The market stays Degraded until "
                "the spec changes."
            )
            self._event("Warning", ROLLED_BACK, message)
            return self._finish(rollout, history.ROLLED_BACK, ROLLED_BACK, message)
        if rollout["kind"] == history.ROLLBACK:
            message = (
                f"Revision {rollout['revision']} serves version {rollout['version']} "
                f"as revision {rollout.get('sourceRevision')} did"
            )
            self._event("Normal", "RollbackSucceeded", message)
        else:
            message = (
                f"Version {rollout['version']} is live as revision "
                f"{rollout['revision']} (migration head {rollout.get('migrationHead')})"
            )
            self._event("Normal", "RolloutSucceeded", message)
        return self._finish(rollout, history.SUCCEEDED, None, message)

    def _finish(
        self, rollout: dict[str, Any], outcome: str, reason: str | None, message: str
    ) -> bool:
        entry: history.Entry = {
            "revision": int(rollout["revision"]),
            "version": str(rollout["version"]),
            "appliedAt": conditions.timestamp(self.now),
            "outcome": outcome,  # type: ignore[typeddict-item]
            "message": message,
        }
        head = rollout.get("migrationHead") or rollout.get("fromMigrationHead")
        if head:
            entry["migrationHead"] = str(head)
        if rollout.get("migrations"):
            entry["migrations"] = rollout["migrations"]
        serving = self.serving(rollout)
        if outcome == history.SUCCEEDED or (
            outcome == history.FAILED and serving == rollout["version"]
        ):
            self.current_revision, self.current_version = entry["revision"], entry["version"]
        else:
            self.current_revision = rollout.get("fromRevision")
            self.current_version = rollout.get("fromVersion")
        self.history = history.trim(
            [*self.history, entry], self.spec.rollback.history_limit, self.current_revision
        )
        self.last_failure = (
            None
            if reason is None
            else {
                "generation": rollout["generation"],
                "reason": reason,
                "message": message,
                "version": rollout["version"],
                "revision": rollout["revision"],
            }
        )
        self.rollout = None
        return False

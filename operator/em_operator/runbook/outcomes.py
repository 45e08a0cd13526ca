"""How a rollout step ends: success, failure, automatic rollback or refusal.

Split from `steps` to keep each module readable; `steps.Machine` inherits these.
Also home of the step and reason names and of `serving_version`, which both
modules need.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from em_operator.runbook import conditions, history, migrations, naming, plans, specs

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
DATA_LOSS_MARK = "data-losing"  # in `em migrate downgrade`'s refusal message


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


class Outcomes:
    market: naming.MarketRef
    spec: specs.MarketSpec
    status: Mapping[str, Any]
    now: datetime
    catalog: migrations.MigrationCatalog
    history: list[history.Entry]
    current_revision: int | None
    current_version: str | None
    rollout: dict[str, Any] | None
    last_failure: dict[str, Any] | None
    events: list[plans.Event]
    requeue_after: float | None

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
            if reason == DOWNGRADE_FAILED and DATA_LOSS_MARK in message:
                # `em migrate downgrade` refused before touching anything.
                reason = history.DATA_LOSS_REFUSED
                message = f"{message}; {history.backup_hint(self.status)}"
            elif self.rolling_back(rollout) and reason != DOWNGRADE_FAILED:
                reason = ROLLBACK_FAILED
            self._event("Warning", reason, message)
            return self._finish(rollout, history.FAILED, reason, message)
        new_head, old_head = rollout.get("migrationHead"), rollout.get("fromMigrationHead")
        undone = None if not (new_head and old_head) else self.catalog.undone(new_head, old_head)
        losing = () if undone is None else self.catalog.losing(undone)
        downgrade = new_head != old_head
        if downgrade and (losing or not old_head) and not self.spec.rollback.allow_data_loss:
            what = (
                f"would undo data-losing migrations {', '.join(losing)}"
                if losing
                else "has no recorded head to return to"
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

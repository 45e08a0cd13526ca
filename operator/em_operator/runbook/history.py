"""The revision history and the choice of what to deploy next.

Every rollout attempt gets the next revision number, as Helm releases do, and
ends as one history entry: `Succeeded`, `Failed` or `RolledBack`. A rollback is
"go back to what revision N ran": the version N ran, on the database head N ran
on. Whether that needs a downgrade is read from the recorded migration graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from em_operator import errors
from em_operator.runbook import migrations, specs

UPGRADE = "Upgrade"
ROLLBACK = "Rollback"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
ROLLED_BACK = "RolledBack"
UNKNOWN_REVISION = "UnknownRevision"
DATA_LOSS_REFUSED = "DataLossRefused"


class Step(TypedDict):
    revision: str
    down: list[str]
    dataLosing: bool


class _EntryRequired(TypedDict):
    revision: int
    version: str
    appliedAt: str
    outcome: Literal["Succeeded", "Failed", "RolledBack"]


class Entry(_EntryRequired, total=False):
    migrationHead: str
    message: str
    migrations: list[Step]


@dataclass(frozen=True)
class Target:
    kind: str  # UPGRADE or ROLLBACK
    version: str
    migration_head: str | None = None  # for a rollback: the head to end on
    downgrade: bool = False
    source_revision: int | None = None


@dataclass(frozen=True)
class Refusal:
    reason: str
    message: str


def entries(status: Mapping[str, Any]) -> list[Entry]:
    return [entry for entry in status.get("history") or [] if isinstance(entry, dict)]  # type: ignore[misc]


def find(history: Iterable[Mapping[str, Any]], revision: int | None) -> Mapping[str, Any] | None:
    if revision is None:
        return None
    for entry in history:
        if entry.get("revision") == revision:
            return entry
    return None


def next_revision(history: Sequence[Mapping[str, Any]], current: int | None) -> int:
    return max([int(e.get("revision", 0)) for e in history] + [current or 0]) + 1


def trim(history: Sequence[Entry], limit: int, keep: int | None) -> list[Entry]:
    """The newest `limit` entries, never dropping the one currently deployed."""
    ordered = sorted(history, key=lambda e: e["revision"])
    kept = ordered[-limit:]
    current = [e for e in ordered[:-limit] if e["revision"] == keep]
    return current + kept


def backup_hint(status: Mapping[str, Any]) -> str:
    backup = status.get("lastBackup") or {}
    if backup.get("name"):
        when = backup.get("completedAt") or backup.get("startedAt") or "time unknown"
        return f"latest backup: {backup['name']} ({when})"
    return "no backup is recorded: take one (MarketBackup) first"


def choose(
    spec: specs.MarketSpec,
    status: Mapping[str, Any],
    catalog: migrations.MigrationCatalog,
) -> Target | Refusal | None:
    """What the spec asks to deploy, given what runs; None when it already runs."""
    history = entries(status)
    current = find(history, status.get("currentRevision"))
    current_version = status.get("currentVersion")
    to_revision = spec.rollback.to_revision
    if to_revision is not None:
        entry = find(history, to_revision)
        known = ", ".join(str(e["revision"]) for e in history if e["outcome"] == SUCCEEDED)
        if entry is None or entry.get("outcome") != SUCCEEDED:
            state = "is not in the history" if entry is None else f"ended {entry.get('outcome')}"
            raise errors.InvalidSpec(
                "spec.rollback.toRevision",
                f"revision {to_revision} {state}; revisions that succeeded: {known or 'none'}",
                UNKNOWN_REVISION,
            )
        return _toward(spec, status, entry, current, catalog, explicit=True)
    if spec.version == current_version:
        return None
    recorded = [e for e in history if e["version"] == spec.version and e["outcome"] == SUCCEEDED]
    if recorded and current is not None:
        return _toward(spec, status, recorded[-1], current, catalog, explicit=False)
    return Target(UPGRADE, spec.version)


def _toward(
    spec: specs.MarketSpec,
    status: Mapping[str, Any],
    entry: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    catalog: migrations.MigrationCatalog,
    explicit: bool,
) -> Target | Refusal | None:
    version = str(entry["version"])
    head = entry.get("migrationHead")
    revision = int(entry["revision"])
    current_head = None if current is None else current.get("migrationHead")
    if current is None or current_head is None or head is None:
        return (
            None
            if current is not None and current["version"] == version
            else Target(UPGRADE, version)
        )
    if current["version"] == version and current_head == head:
        return None
    if head == current_head:
        return Target(ROLLBACK, version, head, downgrade=False, source_revision=revision)
    undone = catalog.undone(current_head, head)
    if undone is None and (catalog.descends(head, current_head) or not explicit):
        # Forward, or not provably backward: `em migrate upgrade head` with that
        # image either moves forward or fails without touching the database.
        return Target(UPGRADE, version)
    allow = spec.rollback.allow_data_loss
    where = f"revision {revision} (version {version}, migration head {head})"
    if undone is None and not allow:
        return Refusal(
            DATA_LOSS_REFUSED,
            f"Rolling back to {where} needs a downgrade from {current_head} whose "
            "migrations are not all recorded, so it may lose data; "
            f"{backup_hint(status)}. Set spec.rollback.allowDataLoss: true to proceed.",
        )
    losing = catalog.losing(undone or ())
    if losing and not allow:
        return Refusal(
            DATA_LOSS_REFUSED,
            f"Rolling back to {where} undoes data-losing migrations "
            f"{', '.join(losing)}; {backup_hint(status)}. "
            "Set spec.rollback.allowDataLoss: true to proceed.",
        )
    return Target(ROLLBACK, version, head, downgrade=True, source_revision=revision)

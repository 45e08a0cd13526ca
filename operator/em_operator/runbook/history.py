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
        return _toward(spec, status, entry, current, catalog)
    if spec.version == current_version:
        return None
    recorded = [e for e in history if e["version"] == spec.version and e["outcome"] == SUCCEEDED]
    if recorded and current is not None:
        return _toward(spec, status, recorded[-1], current, catalog)
    return Target(UPGRADE, spec.version)


def _toward(
    spec: specs.MarketSpec,
    status: Mapping[str, Any],
    entry: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    catalog: migrations.MigrationCatalog,
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
    if undone is None and not _older(status, head, current_head, catalog):
        # Forward, or not known to be backward: `em migrate upgrade head` with that
        # image either moves forward or fails without touching the database.
        return Target(UPGRADE, version)
    losing = catalog.losing(undone or ())
    if losing and not spec.rollback.allow_data_loss:
        where = f"revision {revision} (version {version}, migration head {head})"
        return Refusal(
            DATA_LOSS_REFUSED,
            f"Rolling back to {where} undoes data-losing migrations "
            f"{', '.join(losing)}; {backup_hint(status)}. "
            "Set spec.rollback.allowDataLoss: true to proceed.",
        )
    # Where the recorded graph cannot tell, the downgrade Job decides: without
    # --allow-data-loss `em migrate downgrade` refuses any data-losing revision.
    return Target(ROLLBACK, version, head, downgrade=True, source_revision=revision)


def _older(
    status: Mapping[str, Any], head: str, current_head: str, catalog: migrations.MigrationCatalog
) -> bool:
    """Whether `head` lies below `current_head`.

    The recorded graph answers when it can; otherwise the history does: heads
    only appear by migrating up, so a head first recorded at an earlier revision
    than the current one is older.
    """
    if catalog.undone(current_head, head) is not None:
        return True
    if catalog.descends(head, current_head):
        return False
    first: dict[str, int] = {}
    for entry in sorted(entries(status), key=lambda e: e["revision"]):
        if entry.get("outcome") != SUCCEEDED or not entry.get("migrationHead"):
            continue
        first.setdefault(str(entry["migrationHead"]), entry["revision"])
    return head in first and current_head in first and first[head] < first[current_head]

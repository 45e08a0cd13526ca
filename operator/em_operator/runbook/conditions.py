"""Status conditions in the shape of `metav1.Condition`.

`lastTransitionTime` moves only when a condition's status flips: a reason or
message may change as a rollout proceeds, but "since when has it been False"
must survive every reconcile, or alerts on it would never fire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

Status = Literal["True", "False", "Unknown"]

# Condition types the operator sets (part 2 adds LastBackupSucceeded, BackupVerified,
# SecretsRotated); docs/operator.md lists every reason.
READY = "Ready"
AVAILABLE = "Available"
MIGRATED = "Migrated"
PROGRESSING = "Progressing"
MAINTENANCE = "MaintenanceActive"
ORDER = (READY, AVAILABLE, MIGRATED, PROGRESSING, MAINTENANCE)


class Condition(TypedDict):
    type: str
    status: Status
    reason: str
    message: str
    lastTransitionTime: str
    observedGeneration: int


def timestamp(now: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second, as Kubernetes writes it."""
    return now.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text)


def find(conditions: Iterable[Mapping[str, Any]] | None, type_: str) -> Mapping[str, Any] | None:
    for condition in conditions or []:
        if condition.get("type") == type_:
            return condition
    return None


def is_true(conditions: Iterable[Mapping[str, Any]] | None, type_: str) -> bool:
    found = find(conditions, type_)
    return found is not None and found.get("status") == "True"


def set_condition(
    conditions: Sequence[Mapping[str, Any]] | None,
    type_: str,
    status: Status,
    reason: str,
    message: str,
    now: datetime,
    generation: int,
) -> list[Condition]:
    """A new list with `type_` replaced; other conditions are copied unchanged."""
    previous = find(conditions, type_)
    since = timestamp(now)
    if previous is not None and previous.get("status") == status:
        since = str(previous.get("lastTransitionTime") or since)
    updated: Condition = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since,
        "observedGeneration": generation,
    }
    result: list[Condition] = []
    placed = False
    for condition in conditions or []:
        if condition.get("type") == type_:
            result.append(updated)
            placed = True
        else:
            result.append(_copy(condition))
    if not placed:
        result.append(updated)
    return sorted(result, key=_rank)


def _rank(condition: Condition) -> tuple[int, str]:
    type_ = condition["type"]
    return (ORDER.index(type_) if type_ in ORDER else len(ORDER), type_)


def _copy(raw: Mapping[str, Any]) -> Condition:
    status = raw.get("status")
    return {
        "type": str(raw.get("type", "")),
        "status": status if status in ("True", "False") else "Unknown",
        "reason": str(raw.get("reason", "")),
        "message": str(raw.get("message", "")),
        "lastTransitionTime": str(raw.get("lastTransitionTime", "")),
        "observedGeneration": int(raw.get("observedGeneration") or 0),
    }

"""A planner's answer: what to apply, how the status changes, which Events to post."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Manifest = dict[str, Any]
EventType = Literal["Normal", "Warning"]


@dataclass(frozen=True)
class Event:
    type: EventType
    reason: str
    message: str


@dataclass(frozen=True)
class Plan:
    """Everything one reconcile should do, in order.

    `apply` is applied first (server-side apply; Jobs are only ever created),
    then `status` is merge-patched (a None value deletes the field), then the
    Events are posted. `requeue_after` asks for another look in that many
    seconds while something is in flight.
    """

    apply: tuple[Manifest, ...] = ()
    status: dict[str, Any] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    requeue_after: float | None = None
    maintenance: dict[str, Any] = field(default_factory=dict)

    def objects(self, kind: str) -> list[Manifest]:
        return [item for item in self.apply if item.get("kind") == kind]

    def object(self, kind: str, name: str) -> Manifest:
        for item in self.objects(kind):
            if item["metadata"]["name"] == name:
                return item
        raise KeyError(f"{kind}/{name} is not in the plan")

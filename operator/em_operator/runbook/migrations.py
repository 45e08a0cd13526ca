"""What the operator knows about the Alembic history, and the migrate Job's report.

The operator's own image may be older than the versions it deploys, so it does
not read migration scripts. Instead every migrate Job reports what it applied
(`em migrate upgrade head --report /dev/termination-log`):

    {"head": "c0ffee", "applied": [{"revision": "c0ffee", "down": ["beef00"],
     "dataLosing": true}], "complete": true}

A plain head (`c0ffee`) is accepted too. The steps are kept in the revision
history, so the planner can tell which migrations a downgrade would undo and
whether any of them is marked data-losing (its downgrade drops data written
since the upgrade). Where the recorded graph has a gap, the answer is "unknown",
and the planner treats unknown as data-losing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from em_operator import errors


@dataclass(frozen=True)
class MigrationStep:
    revision: str
    down: tuple[str, ...] = ()
    data_losing: bool = False

    def to_status(self) -> dict[str, Any]:
        return {"revision": self.revision, "down": list(self.down), "dataLosing": self.data_losing}


@dataclass(frozen=True)
class MigrationReport:
    head: str
    applied: tuple[MigrationStep, ...] = ()


@dataclass(frozen=True)
class MigrationCatalog:
    """A (possibly partial) Alembic graph: revision → down revisions, plus loss markers."""

    parents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    data_losing: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, steps: Iterable[MigrationStep], data_losing: Iterable[str] = ()
    ) -> MigrationCatalog:
        steps = list(steps)
        return cls(
            parents={step.revision: step.down for step in steps},
            data_losing=frozenset(data_losing) | {s.revision for s in steps if s.data_losing},
        )

    def merged(self, other: MigrationCatalog) -> MigrationCatalog:
        return MigrationCatalog(
            {**self.parents, **other.parents}, self.data_losing | other.data_losing
        )

    def undone(self, head: str, target: str) -> frozenset[str] | None:
        """Revisions a downgrade from `head` to `target` would undo; None when unknown.

        That is everything below `head` that is not below `target` (both
        inclusive). Unknown when `target` is not below `head`, or when the walk
        from `head` meets an unrecorded revision that is not below `target`.
        """
        if head == target:
            return frozenset()
        above, gaps = self._ancestry(head)
        if target not in above:
            return None
        below, _ = self._ancestry(target)
        if gaps - below:
            return None
        return frozenset(above - below)

    def _ancestry(self, revision: str) -> tuple[set[str], set[str]]:
        """(revision and all below it, the unrecorded ones among them)."""
        seen: set[str] = set()
        gaps: set[str] = set()
        frontier = [revision]
        while frontier:
            current = frontier.pop()
            if current in seen:
                continue
            seen.add(current)
            if current not in self.parents:
                gaps.add(current)
                continue
            frontier.extend(self.parents[current])
        return seen, gaps

    def descends(self, newer: str, older: str) -> bool:
        """True when the graph shows `newer` built on top of `older`."""
        return newer != older and self.undone(newer, older) is not None

    def losing(self, revisions: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(revisions) & self.data_losing))


def parse_report(message: str) -> MigrationReport:
    """The migrate Job's termination message; raises `errors.InvalidReport`."""
    text = message.strip()
    if not text:
        raise errors.InvalidReport("the migrate Job left no termination message")
    if not text.startswith("{"):
        if len(text.split()) != 1:
            raise errors.InvalidReport(f"not an Alembic head: {text[:80]!r}")
        return MigrationReport(head=text)
    try:
        raw = json.loads(text)
        head = raw["head"]
        applied = tuple(_step(item) for item in raw.get("applied") or [])
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.InvalidReport(f"unreadable migration report: {text[:80]!r}") from exc
    if not isinstance(head, str) or not head:
        raise errors.InvalidReport("the migration report has no head")
    return MigrationReport(head=head, applied=applied)


def _step(raw: Mapping[str, Any]) -> MigrationStep:
    down = raw.get("down") or []
    if isinstance(down, str):
        down = [down]
    return MigrationStep(
        revision=str(raw["revision"]),
        down=tuple(str(d) for d in down),
        data_losing=bool(raw.get("dataLosing", False)),
    )


def steps_from_status(raw: Iterable[Mapping[str, Any]] | None) -> list[MigrationStep]:
    return [_step(item) for item in raw or []]


def catalog_from_status(status: Mapping[str, Any]) -> MigrationCatalog:
    """Everything the history and the rollout in flight recorded."""
    steps: list[MigrationStep] = []
    for entry in status.get("history") or []:
        steps += steps_from_status(entry.get("migrations"))
    rollout = status.get("rollout") or {}
    steps += steps_from_status(rollout.get("migrations"))
    return MigrationCatalog.of(steps)

"""What the handlers saw in the cluster, reduced to what the planners decide on.

The handlers fill these from the API; tests write them by hand. Secret values
never appear here except the market's own app Secret, which the planner must
see to keep existing values when it fills in missing ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class JobPhase(StrEnum):
    ABSENT = "Absent"
    ACTIVE = "Active"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


@dataclass(frozen=True)
class JobState:
    phase: JobPhase
    message: str = ""  # the container's termination message (the migrate report) or why it failed


ABSENT_JOB = JobState(JobPhase.ABSENT)


@dataclass(frozen=True)
class WorkloadState:
    """A Deployment's or StatefulSet's rollout progress.

    `current` is False until the controller has seen the latest spec
    (`status.observedGeneration < metadata.generation`, or a StatefulSet whose
    `currentRevision` still differs from its `updateRevision`); until then the
    replica counts describe the previous template.
    """

    image: str | None = None  # None: the object does not exist
    replicas: int = 0
    updated: int = 0
    ready: int = 0
    available: int = 0
    current: bool = True
    # When the controller last said "ProgressDeadlineExceeded" about the current template.
    # A time, not a flag: the verdict outlives a template change back to an older
    # ReplicaSet (the controller keeps it until progress is seen), so only a verdict
    # given after a rollout step started speaks about that step.
    stuck_since: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.image is not None

    def rolled_out(self, image: str, replicas: int) -> bool:
        return (
            self.image == image
            and self.current
            and self.replicas == replicas
            and self.updated >= replicas
            and self.available >= replicas
        )

    def serving(self) -> bool:
        """At least one pod answers, or none is wanted."""
        return self.exists and (self.replicas == 0 or self.available >= 1)


@dataclass(frozen=True)
class Observed:
    secrets: Mapping[str, frozenset[str]] = field(default_factory=dict)  # name → keys present
    config_maps: Mapping[str, frozenset[str]] = field(default_factory=dict)
    app_secret: Mapping[str, str] | None = None
    workloads: Mapping[str, WorkloadState] = field(default_factory=dict)  # component → state
    jobs: Mapping[str, JobState] = field(default_factory=dict)  # Job name → state

    def job(self, name: str) -> JobState:
        return self.jobs.get(name, ABSENT_JOB)

    def workload(self, component: str) -> WorkloadState:
        return self.workloads.get(component, WorkloadState())

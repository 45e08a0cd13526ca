"""Migration, downgrade and smoke Jobs as the cluster shows them.

A Job's outcome is read from its status; the migrate report from its pod's
termination message (`/dev/termination-log`, or the log tail when the container
failed, thanks to `FallbackToLogsOnError`). The runbook decides what follows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from em_operator.handlers import clients as clients_
from em_operator.runbook import jobs, naming, observed

logger = logging.getLogger(__name__)

JOB_ACTIONS = (jobs.MIGRATE, jobs.DOWNGRADE, jobs.SMOKE)
JOB_NAME_LABEL = "job-name"  # set by the Job controller on its pods


def termination_message(pods: Sequence[Mapping[str, Any]]) -> str:
    """The newest terminated container's message (the migrate report, or the log tail)."""
    found: list[tuple[str, str]] = []
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            terminated = (status.get("state") or {}).get("terminated") or {}
            if terminated:
                found.append(
                    (str(terminated.get("finishedAt") or ""), str(terminated.get("message") or ""))
                )
    return max(found)[1] if found else ""


def job_state(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> observed.JobState:
    status = job.get("status") or {}
    conditions = {
        c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"
    }
    if status.get("succeeded") or "Complete" in conditions:
        return observed.JobState(observed.JobPhase.SUCCEEDED, termination_message(pods))
    if "Failed" in conditions or status.get("failed"):
        message = termination_message(pods) or str(
            (conditions.get("Failed") or {}).get("message") or ""
        )
        return observed.JobState(observed.JobPhase.FAILED, message)
    return observed.JobState(observed.JobPhase.ACTIVE)


def read_jobs(api: clients_.Clients, market: naming.MarketRef) -> dict[str, observed.JobState]:
    """The market's Jobs and their pods: two lists, however many Jobs the history holds."""
    selector = (
        f"{naming.LABEL_INSTANCE}={market.name[: naming.MAX_NAME]},"
        f"{naming.LABEL_COMPONENT} in ({','.join(JOB_ACTIONS)})"
    )
    found = api.batch.list_namespaced_job(market.namespace, label_selector=selector)
    pods: dict[str, list[dict[str, Any]]] = {}
    if found.items:
        for pod in api.core.list_namespaced_pod(market.namespace, label_selector=selector).items:
            plain = api.plain(pod)
            owner = ((plain.get("metadata") or {}).get("labels") or {}).get(JOB_NAME_LABEL)
            if owner:
                pods.setdefault(str(owner), []).append(plain)
    result: dict[str, observed.JobState] = {}
    for job in found.items:
        if job.metadata is None or not job.metadata.name:
            continue
        name = str(job.metadata.name)
        result[name] = job_state(api.plain(job), pods.get(name, []))
    return result

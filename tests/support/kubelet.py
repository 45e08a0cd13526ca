"""Plays the kubelet for the test control plane: writes pod status through pods/status.

No kubelet or scheduler runs, so pods stay unbound (spec.nodeName empty). The API server
accepts status from any client allowed to update pods/status, and the controllers only
read status: a Deployment counts a pod available once its Ready condition is True, and a
Job counts a pod by its phase. Unbound pods are also deleted at once (no graceful wait
for a kubelet), so scale-downs and rollouts finish without one. Why not kwok: this is a
few lines, deterministic (a test decides when and how each pod ends) and needs no
extra binary or node objects. See docs/testing.md.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException

logger = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_TIMEOUT = 60.0
_POLL = 0.1


class _Model(Protocol):
    def to_dict(self, serialize: bool = False) -> dict[str, Any]: ...


def as_json(obj: _Model) -> dict[str, Any]:
    """A client model as the API's own JSON (camelCase), which tests read more easily
    than the typed models whose every field is Optional."""
    pruned = _prune(obj.to_dict(serialize=True))
    assert isinstance(pruned, dict)
    return pruned


def _prune(value: Any) -> Any:
    """Drop unset (None) fields, as the API's JSON omits them."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The status condition of that type, if the object has it."""
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def condition_true(obj: dict[str, Any], kind: str) -> bool:
    cond = condition(obj, kind)
    return cond is not None and cond.get("status") == "True"


class KubeletTimeoutError(AssertionError):
    """A polled condition did not hold before the deadline."""


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = DEFAULT_TIMEOUT) -> T:
    """Poll probe until it returns something other than None/False; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise KubeletTimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(_POLL)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _condition(kind: str, ok: bool, now: datetime.datetime) -> client.V1PodCondition:
    return client.V1PodCondition(
        type=kind, status="True" if ok else "False", last_transition_time=now
    )


class FakeKubelet:
    """Sets pod phases and container states as a kubelet would report them."""

    def __init__(self, api: client.ApiClient) -> None:
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)

    def _write_status(self, name: str, namespace: str, status: client.V1PodStatus) -> None:
        for _ in range(10):  # optimistic concurrency: the controllers also touch pods
            pod = self.core.read_namespaced_pod_status(name, namespace)
            pod.status = status
            try:
                self.core.replace_namespaced_pod_status(name, namespace, pod)
                return
            except ApiException as exc:
                if exc.status != 409:
                    raise
        raise KubeletTimeoutError(f"pod {namespace}/{name}: status kept conflicting")

    def _containers(self, name: str, namespace: str) -> list[tuple[str, str]]:
        pod = as_json(self.core.read_namespaced_pod(name, namespace))
        return [(c["name"], c.get("image", "")) for c in pod["spec"]["containers"]]

    def mark_running(self, name: str, namespace: str = "default", ready: bool = True) -> None:
        """Phase Running, every container started; Ready as asked."""
        now = _now()
        statuses = [
            client.V1ContainerStatus(
                name=cname, image=image, image_id=f"fake://{image}",
                container_id=f"fake://{namespace}/{name}/{cname}", ready=ready,
                restart_count=0, started=True,
                state=client.V1ContainerState(
                    running=client.V1ContainerStateRunning(started_at=now)),
            )
            for cname, image in self._containers(name, namespace)
        ]  # fmt: skip
        conditions = [
            _condition("PodScheduled", True, now),
            _condition("Initialized", True, now),
            _condition("ContainersReady", ready, now),
            _condition("Ready", ready, now),
        ]
        self._write_status(name, namespace, client.V1PodStatus(
            phase="Running", conditions=conditions, container_statuses=statuses,
            start_time=now, qos_class=self._qos(name, namespace)))  # fmt: skip

    def _qos(self, name: str, namespace: str) -> str | None:
        pod = as_json(self.core.read_namespaced_pod_status(name, namespace))
        qos = pod.get("status", {}).get("qosClass")
        return str(qos) if qos else None

    def _terminate(
        self, name: str, namespace: str, phase: str, exit_code: int, reason: str, message: str
    ) -> None:
        now = _now()
        statuses = [
            client.V1ContainerStatus(
                name=cname, image=image, image_id=f"fake://{image}",
                container_id=f"fake://{namespace}/{name}/{cname}", ready=False,
                restart_count=0, started=False,
                state=client.V1ContainerState(terminated=client.V1ContainerStateTerminated(
                    exit_code=exit_code, reason=reason, message=message or None,
                    started_at=now, finished_at=now)),
            )
            for cname, image in self._containers(name, namespace)
        ]  # fmt: skip
        conditions = [
            _condition("PodScheduled", True, now),
            _condition("Initialized", True, now),
            _condition("ContainersReady", False, now),
            _condition("Ready", False, now),
        ]
        self._write_status(name, namespace, client.V1PodStatus(
            phase=phase, conditions=conditions, container_statuses=statuses,
            start_time=now, qos_class=self._qos(name, namespace),
            message=message or None, reason=None))  # fmt: skip

    def mark_succeeded(self, name: str, namespace: str = "default", message: str = "") -> None:
        """Every container exited 0 (reason Completed); phase Succeeded."""
        self._terminate(name, namespace, "Succeeded", 0, "Completed", message)

    def mark_failed(
        self, name: str, namespace: str = "default", exit_code: int = 1, message: str = ""
    ) -> None:
        """Every container exited with exit_code (reason Error); phase Failed.

        `message` plays the container's termination message (/dev/termination-log).
        """
        if exit_code == 0:
            raise ValueError("a failed container needs a non-zero exit code")
        self._terminate(name, namespace, "Failed", exit_code, "Error", message)

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        """Live pods (as JSON) matching a label selector: not terminal, not being deleted."""
        items = self.core.list_namespaced_pod(namespace, label_selector=selector).items
        pods = [as_json(p) for p in items]
        return [
            p for p in pods
            if "deletionTimestamp" not in p["metadata"]
            and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")
        ]  # fmt: skip

    def wait_for_pods(
        self, namespace: str, selector: str, count: int, timeout: float = DEFAULT_TIMEOUT
    ) -> list[dict[str, Any]]:
        """Wait until at least `count` live pods match the selector."""
        return wait_for(
            f"{count} pods matching {selector!r} in {namespace}",
            lambda: pods if len(pods := self.pods(namespace, selector)) >= count else None,
            timeout,
        )

    def _deployment_selector(self, name: str, namespace: str) -> str:
        dep = as_json(self.apps.read_namespaced_deployment(name, namespace))
        labels: dict[str, str] = dep["spec"]["selector"].get("matchLabels", {})
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def mark_deployment_ready(self, name: str, namespace: str = "default") -> int:
        """Mark every live, not yet ready pod of the Deployment Running+Ready; count them."""
        marked = 0
        for pod in self.pods(namespace, self._deployment_selector(name, namespace)):
            if condition_true(pod, "Ready"):
                continue
            try:
                self.mark_running(pod["metadata"]["name"], namespace)
            except ApiException as exc:
                if exc.status != 404:  # deleted by a scale-down meanwhile
                    raise
                continue
            marked += 1
        return marked

    def settle_deployment(
        self, name: str, namespace: str = "default", timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        """Keep marking new pods ready until the rollout is complete (like `rollout status`);
        return the Deployment as JSON."""

        def done() -> dict[str, Any] | None:
            self.mark_deployment_ready(name, namespace)
            dep = as_json(self.apps.read_namespaced_deployment(name, namespace))
            st, want = dep.get("status", {}), dep["spec"]["replicas"]
            complete = (
                st.get("observedGeneration", 0) >= dep["metadata"]["generation"]
                and st.get("updatedReplicas", 0) == want
                and st.get("replicas", 0) == want
                and st.get("availableReplicas", 0) == want
            )
            return dep if complete else None

        return wait_for(f"deployment {namespace}/{name} to roll out", done, timeout)

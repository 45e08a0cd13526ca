"""EverythingMarket objects in the test control plane, and a kubelet playing their pods.

`Market` reads and writes one market and what it owns; `PlayedKubelet` runs in a
background thread and answers for the market's pods the way the test asks: workload
pods turn Ready (except versions listed in `unready`), and Job pods end as the
per-action policy says (or stay running until the test ends them with `finish_job`).
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kubelet import DEFAULT_TIMEOUT, FakeKubelet, as_json, condition_true, wait_for

logger = logging.getLogger(__name__)

GROUP, VERSION, PLURAL = "everythingmarket.io", "v1alpha1", "everythingmarkets"
IMAGE = "ghcr.io/everything-market/em"
COMPONENTS = ("backend", "orderbook", "reality")
ACTIONS = ("migrate", "downgrade", "smoke")
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_VERSION = "app.kubernetes.io/version"
LABEL_REVISION = "everythingmarket.io/revision"
HEADS = {"1.0.0": "a1", "2.0.0": "b2", "3.0.0": "c3"}  # what each version's migrate reports


def image(version: str) -> str:
    return f"{IMAGE}:{version}"


def report(head: str, down: str | None = None, data_losing: bool = False) -> str:
    """The migrate Job's termination message: the head and what it applied."""
    applied = (
        [] if down is None else [{"revision": head, "down": [down], "dataLosing": data_losing}]
    )
    return json.dumps({"head": head, "applied": applied, "complete": True})


@dataclass(frozen=True)
class JobResult:
    ok: bool
    message: str = ""
    exit_code: int = 1


JobPolicy = Callable[[dict[str, Any]], JobResult | None]  # the Job's pod -> result, None: wait


class Market:
    def __init__(self, api: client.ApiClient, namespace: str, name: str = "market") -> None:
        self.namespace, self.name = namespace, name
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.batch = client.BatchV1Api(api)

    # -- the market ----------------------------------------------------------------------

    def body(self, version: str, **spec: Any) -> dict[str, Any]:
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "EverythingMarket",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {"version": version, "database": {"secretRef": {"name": "market-db"}}, **spec},
        }

    def create(self, version: str, **spec: Any) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            self.custom.create_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, self.body(version, **spec)
            ),
        )

    def patch(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch the spec (None removes a field), as `kubectl patch --type merge`."""
        return cast(
            dict[str, Any],
            self.custom.patch_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, self.name, {"spec": spec}
            ),
        )

    def get(self) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, self.name
            ),
        )

    def status(self) -> dict[str, Any]:
        return dict(self.get().get("status") or {})

    def condition(self, kind: str) -> dict[str, Any]:
        for cond in self.status().get("conditions") or []:
            if cond.get("type") == kind:
                return dict(cond)
        return {}

    def wait_status(
        self,
        what: str,
        check: Callable[[dict[str, Any]], bool],
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """Poll the status until `check` holds; the failure names the last status seen."""
        seen: dict[str, Any] = {}

        def probe() -> dict[str, Any] | None:
            nonlocal seen
            seen = self.status()
            return seen if check(seen) else None

        try:
            return wait_for(what, probe, timeout)
        except AssertionError as exc:
            summary = {k: seen.get(k) for k in ("phase", "rollout", "lastFailure", "conditions")}
            raise AssertionError(f"{exc}; last status: {json.dumps(summary, indent=1)}") from None

    def wait_phase(
        self, phase: str, reason: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        def check(status: dict[str, Any]) -> bool:
            if status.get("phase") != phase:
                return False
            found = [c for c in status.get("conditions") or [] if c["type"] == "Ready"]
            ready: dict[str, Any] = found[0] if found else {}
            return reason is None or ready.get("reason") == reason

        return self.wait_status(f"phase {phase} ({reason or 'any reason'})", check, timeout)

    def events(self, reason: str | None = None) -> list[dict[str, Any]]:
        selector = f"involvedObject.name={self.name},involvedObject.kind=EverythingMarket"
        found = self.core.list_namespaced_event(self.namespace, field_selector=selector).items
        events = [as_json(e) for e in found]
        return [e for e in events if reason is None or e.get("reason") == reason]

    def wait_events(self, *reasons: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Every Event of the market once all `reasons` are among them (kopf posts
        Events in the background, a moment after the status they go with)."""

        def probe() -> list[dict[str, Any]] | None:
            events = self.events()
            return events if set(reasons) <= {e.get("reason") for e in events} else None

        try:
            return wait_for(f"events {', '.join(reasons)}", probe, timeout)
        except AssertionError as exc:
            seen = sorted({str(e.get("reason")) for e in self.events()})
            raise AssertionError(f"{exc}; seen: {seen}") from None

    def wait_event(self, reason: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The market's Events with that reason, once there is one."""
        return [e for e in self.wait_events(reason, timeout=timeout) if e.get("reason") == reason]

    # -- what it owns --------------------------------------------------------------------

    def component(self, name: str) -> str:
        return f"{self.name}-{name}"

    def workload(self, component: str) -> dict[str, Any] | None:
        name = self.component(component)
        try:
            if component == "orderbook":
                return as_json(self.apps.read_namespaced_stateful_set(name, self.namespace))
            return as_json(self.apps.read_namespaced_deployment(name, self.namespace))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def images(self) -> dict[str, str | None]:
        result: dict[str, str | None] = {}
        for name in COMPONENTS:
            found = self.workload(name)
            containers = (found or {}).get("spec", {}).get("template", {}).get("spec", {})
            result[name] = (containers.get("containers") or [{}])[0].get("image")
        return result

    def jobs(self, action: str | None = None) -> list[dict[str, Any]]:
        selector = f"{LABEL_INSTANCE}={self.name}"
        if action is not None:
            selector += f",{LABEL_COMPONENT}={action}"
        found = self.batch.list_namespaced_job(self.namespace, label_selector=selector).items
        return sorted((as_json(j) for j in found), key=lambda j: j["metadata"]["creationTimestamp"])

    def wait_job(
        self, action: str, revision: int, timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            for job in self.jobs(action):
                if job["metadata"]["labels"].get(LABEL_REVISION) == str(revision):
                    return job
            return None

        return wait_for(f"{action} Job of revision {revision}", probe, timeout)


class PlayedKubelet:
    """Answers for one market's pods from a background thread until `stop()`."""

    def __init__(self, api: client.ApiClient, namespace: str, instance: str = "market") -> None:
        self.kubelet = FakeKubelet(api)
        self.namespace, self.instance = namespace, instance
        self.unready: set[str] = set()  # versions whose workload pods never turn Ready
        self.policies: dict[str, JobPolicy] = {}  # action -> what its Job's pod does
        self.finished: dict[str, JobResult] = {}  # Job name -> result the test chose
        self.handled: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="played-kubelet", daemon=True)

    def start(self) -> PlayedKubelet:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self._errors:
            raise AssertionError(f"the played kubelet failed: {self._errors[0]!r}")

    def finish_job(self, job: str, result: JobResult) -> None:
        """End that Job's pod as told (from now on, the thread does it)."""
        with self._lock:
            self.finished[job] = result

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except ApiException as exc:
                if exc.status not in (404, 409):
                    self._errors.append(exc)
                    return
            except Exception as exc:
                self._errors.append(exc)
                return
            self._stop.wait(0.05)

    def step(self) -> None:
        selector = f"{LABEL_INSTANCE}={self.instance}"
        for pod in self.kubelet.pods(self.namespace, selector):
            labels = pod["metadata"].get("labels") or {}
            name = pod["metadata"]["name"]
            if labels.get(LABEL_COMPONENT) in COMPONENTS:
                if labels.get(LABEL_VERSION) in self.unready or condition_true(pod, "Ready"):
                    continue
                self._safely(functools.partial(self.kubelet.mark_running, name, self.namespace))
            elif labels.get(LABEL_COMPONENT) in ACTIONS and name not in self.handled:
                self._job_pod(pod, labels)

    def _job_pod(self, pod: dict[str, Any], labels: dict[str, str]) -> None:
        name = pod["metadata"]["name"]
        with self._lock:
            chosen = self.finished.get(labels.get("job-name", ""))
        policy = self.policies.get(labels[LABEL_COMPONENT])
        result = chosen or (policy(pod) if policy is not None else None)
        if result is None:
            return
        if result.ok:
            self._safely(lambda: self.kubelet.mark_succeeded(name, self.namespace, result.message))
        else:
            self._safely(
                lambda: self.kubelet.mark_failed(
                    name, self.namespace, result.exit_code, result.message
                )
            )
        self.handled.add(name)

    @staticmethod
    def _safely(action: Callable[[], None]) -> None:
        try:
            action()
        except ApiException as exc:
            if exc.status != 404:  # the pod went away meanwhile (a rollout replaced it)
                raise


def pod_image(pod: dict[str, Any]) -> str:
    return str(pod["spec"]["containers"][0]["image"])


def migrate_by_version(heads: dict[str, str]) -> JobPolicy:
    """A migrate policy: each version's image migrates to its head, on top of the one before."""
    order = list(heads)

    def policy(pod: dict[str, Any]) -> JobResult:
        version = pod_image(pod).rsplit(":", 1)[1]
        index = order.index(version)
        down = heads[order[index - 1]] if index > 0 else None
        return JobResult(True, report(heads[version], down))

    return policy


def succeed(_: dict[str, Any]) -> JobResult:
    return JobResult(True)


def create_db_secret(api: client.ApiClient, namespace: str, name: str = "market-db") -> None:
    url = base64.b64encode(b"postgresql://em:em@db:5432/em").decode()
    client.CoreV1Api(api).create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name=name), data={"DATABASE_URL": url}),
    )


def install(market: Market, version: str = "1.0.0", **spec: Any) -> dict[str, Any]:
    """Create the market and wait until it is Ready (with an operator and a played kubelet)."""
    market.create(version, **spec)
    return market.wait_phase("Ready", "Ready")


__all__ = ["DEFAULT_TIMEOUT", "JobResult", "Market", "PlayedKubelet", "wait_for"]

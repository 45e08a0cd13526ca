"""Operator reaction times on the local control plane, with `em operator` as a real process.

Measures, against kube-controller-manager's own controllers in the same run as baselines:

- `spec_to_object`: an EverythingMarket spec change (backend replicas) until the
  Deployment carries it. Baseline: a Deployment's replicas change until its ReplicaSet
  carries it (the Deployment controller reacting through its own watch).
- `rollback`: a manual rollback with a database downgrade (`spec.rollback.toRevision`),
  from the patch until the market is Ready on the old revision: downgrade Job, workloads
  back, smoke Job. Baseline: the same three workloads put back to the previous template
  directly, until all are available (what the cluster needs without any operator).
- `automatic_rollback`: from the moment the failed rollout is noticed (progress deadline)
  until Degraded/RolledBack, the same steps with the failed version's pods in the way.

The kubelet is played (tests/support/markets.py): Jobs and pods end as soon as they
appear, so the figures are the operator's and the API's share, not a real image's start-up.
Prints one JSON line; needs `make cluster-bins`.
"""

from __future__ import annotations

import functools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from kubernetes import client  # noqa: E402

from tests.support.kube import ClusterBinaries, ControlPlane  # noqa: E402
from tests.support.kubelet import wait_for  # noqa: E402
from tests.support.markets import (  # noqa: E402
    HEADS,
    Market,
    PlayedKubelet,
    create_db_secret,
    install,
    migrate_by_version,
    succeed,
)
from tests.support.operator_process import OperatorProcess  # noqa: E402

ROUNDS = 15


def timed(probe: Callable[[], object], what: str, timeout: float = 60.0) -> float:
    started = time.monotonic()
    wait_for(what, probe, timeout)
    return time.monotonic() - started


def namespace(api: client.ApiClient, name: str) -> str:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    wait_for("default service account", lambda: core.list_namespaced_service_account(
        name, field_selector="metadata.name=default").items)  # fmt: skip
    return name


def backend_replicas(market: Market, replicas: int) -> bool:
    return bool((market.workload("backend") or {}).get("spec", {}).get("replicas") == replicas)


def settled(replicas: int, status: dict[str, Any]) -> bool:
    backend = status["components"]["backend"]
    return bool(backend["availableReplicas"] == replicas and status["phase"] == "Ready")


def spec_to_object(market: Market) -> list[float]:
    samples = []
    for round_ in range(ROUNDS):
        replicas = 3 if round_ % 2 == 0 else 2
        started = time.monotonic()
        market.patch({"backend": {"replicas": replicas}})
        wait_for("backend replicas", functools.partial(backend_replicas, market, replicas))
        samples.append(time.monotonic() - started)
        market.wait_status("settled", functools.partial(settled, replicas))
    return samples


def deployment_controller(api: client.ApiClient, ns: str) -> list[float]:
    apps = client.AppsV1Api(api)
    body = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "plain"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "plain"}},
                 "template": {"metadata": {"labels": {"app": "plain"}},
                              "spec": {"containers": [{"name": "c", "image": "x:1"}]}}},
    }  # fmt: skip
    apps.create_namespaced_deployment(ns, cast(Any, body))

    def rs_replicas() -> int | None:
        found = apps.list_namespaced_replica_set(ns, label_selector="app=plain").items
        return found[0].spec.replicas if found else None

    wait_for("plain ReplicaSet", lambda: rs_replicas() is not None)
    samples = []
    for round_ in range(ROUNDS):
        replicas = 2 if round_ % 2 == 0 else 1
        started = time.monotonic()
        apps.patch_namespaced_deployment_scale("plain", ns, {"spec": {"replicas": replicas}})
        wait_for("ReplicaSet replicas", functools.partial(lambda r: rs_replicas() == r, replicas))
        samples.append(time.monotonic() - started)
    return samples


def copy_workloads(market: Market, into: str, template: dict[str, Any]) -> Market:
    """The market's three workloads, unowned, in another namespace, on `template`."""
    copy = Market(market.custom.api_client, into)
    copy.core.create_namespaced_service_account(
        into, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=market.name))
    )
    for component in ("backend", "orderbook", "reality"):
        found = market.workload(component) or {}
        spec = {k: v for k, v in found["spec"].items() if k != "template"}
        spec["template"] = template[component]
        kind = "StatefulSet" if component == "orderbook" else "Deployment"
        body = {"apiVersion": "apps/v1", "kind": kind, "spec": spec,
                "metadata": {"name": market.component(component), "namespace": into}}  # fmt: skip
        if kind == "StatefulSet":
            copy.apps.create_namespaced_stateful_set(into, cast(Any, body))
        else:
            copy.apps.create_namespaced_deployment(into, cast(Any, body))
    wait_for("copies available", lambda: available(copy, template))
    return copy


def available(market: Market, template: dict[str, Any]) -> bool:
    for component in template:
        found = market.workload(component) or {}
        if not found:
            return False
        status, spec = found.get("status", {}), found["spec"]
        if (
            spec["template"]["spec"]["containers"][0]["image"]
            != (template[component]["spec"]["containers"][0]["image"])
        ):
            return False
        if status.get("observedGeneration", 0) < found["metadata"]["generation"]:
            return False
        if (
            min(status.get("updatedReplicas", 0), status.get("availableReplicas", 0))
            < spec["replicas"]
        ):
            return False
        if component == "orderbook" and status.get("currentRevision") != status.get(
            "updateRevision"
        ):
            return False
    return True


def workloads_back(market: Market, template: dict[str, Any]) -> float:
    """Baseline: put the workloads back to `template` directly, until available."""
    started = time.monotonic()
    for component, value in template.items():
        patch = {"spec": {"template": value}}
        name = market.component(component)
        if component == "orderbook":
            market.apps.patch_namespaced_stateful_set(name, market.namespace, patch)
        else:
            market.apps.patch_namespaced_deployment(name, market.namespace, patch)
    wait_for("workloads back", lambda: available(market, template))
    return time.monotonic() - started


def step_times(
    market: Market, started: float, done: Callable[[dict[str, Any]], bool]
) -> dict[str, float]:
    """When each rollout step was first seen in the status (seconds after `started`)."""
    seen: dict[str, float] = {}

    def probe() -> bool:
        status = market.status()
        step = (status.get("rollout") or {}).get("step") or status.get("phase")
        seen.setdefault(str(step), round(time.monotonic() - started, 3))
        return done(status)

    wait_for("the rollback to finish", probe)
    return seen


def templates(market: Market) -> dict[str, Any]:
    return {c: (market.workload(c) or {})["spec"]["template"]
            for c in ("backend", "orderbook", "reality")}  # fmt: skip


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="em-bench-operator-"))
    with ControlPlane(ClusterBinaries.locate()) as plane:
        api = plane.api_client()
        plane.kubectl("apply", "-f", str(ROOT / "k8s" / "crds"))
        wait_for("CRD served", lambda: plane.kubectl(
            "get", "em", "-A", check=False).returncode == 0)  # fmt: skip
        ns = namespace(api, "bench")
        create_db_secret(api, ns)
        played = PlayedKubelet(plane.api_client(), ns)
        played.policies.update(migrate=migrate_by_version(HEADS), smoke=succeed, downgrade=succeed)
        played.start()
        market = Market(api, ns)
        with OperatorProcess(plane.kubeconfig, ns, work / "operator"):
            started = time.monotonic()
            install(market, rollback={"progressDeadlineSeconds": 10})
            install_s = time.monotonic() - started
            change = spec_to_object(market)
            baseline_change = deployment_controller(api, namespace(api, "plain"))

            first = templates(market)
            market.patch({"version": "2.0.0"})
            market.wait_status("2.0.0 Ready", lambda s: s.get("currentVersion") == "2.0.0"
                               and s["phase"] == "Ready")  # fmt: skip
            second = templates(market)
            started = time.monotonic()
            market.patch({"rollback": {"toRevision": 1}})
            steps = step_times(market, started, lambda s: s.get("currentRevision") == 3
                               and s["phase"] == "Ready")  # fmt: skip
            rollback_s = time.monotonic() - started
            # Baseline: copies of the workloads on 2.0.0's templates, put back by hand.
            plain = namespace(api, "plain-rollback")
            copies_kubelet = PlayedKubelet(plane.api_client(), plain).start()
            copies = copy_workloads(market, plain, second)
            baseline_rollback = workloads_back(copies, first)
            copies_kubelet.stop()

            market.patch({"rollback": {"toRevision": 2}})
            market.wait_status("revision 4", lambda s: s.get("currentRevision") == 4
                               and s["phase"] == "Ready", timeout=60)  # fmt: skip
            played.unready.add("3.0.0")
            market.patch({"rollback": {"toRevision": None}, "version": "3.0.0"})
            market.wait_status("deadline noticed", lambda s: bool(
                (s.get("rollout") or {}).get("failure")), timeout=60)  # fmt: skip
            started = time.monotonic()
            market.wait_phase("Degraded", "RolledBack")
            automatic_s = time.monotonic() - started
        played.stop()
        api.close()  # type: ignore[no-untyped-call]
    median = statistics.median
    print(json.dumps({
        "bench": "operator",
        "install_s": round(install_s, 3),
        "spec_to_object_median_s": round(median(change), 3),
        "spec_to_object_max_s": round(max(change), 3),
        "baseline_deployment_controller_median_s": round(median(baseline_change), 3),
        "spec_to_object_ratio": round(median(change) / median(baseline_change), 2),
        "rollback_with_downgrade_s": round(rollback_s, 3),
        "baseline_workloads_back_s": round(baseline_rollback, 3),
        "rollback_ratio": round(rollback_s / baseline_rollback, 2),
        "rollback_steps_seen_at_s": steps,
        "automatic_rollback_after_deadline_s": round(automatic_s, 3),
        "rounds": ROUNDS,
    }))  # fmt: skip


if __name__ == "__main__":
    main()

"""Deployments roll out, record revisions and roll back with the real controllers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.kube_fixtures import KubeCluster
from tests.support.kubelet import FakeKubelet, as_json, condition, wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.slow]

FIXTURES = Path(__file__).parent / "fixtures"
REVISION = "deployment.kubernetes.io/revision"


def _replica_sets(apps: client.AppsV1Api, ns: str) -> dict[str, dict[str, Any]]:
    """ReplicaSets owned by Deployment `web`, keyed by their revision annotation."""
    out = {}
    for item in apps.list_namespaced_replica_set(ns, label_selector="app=web").items:
        rs = as_json(item)
        owners = rs["metadata"].get("ownerReferences", [])
        if any(o["kind"] == "Deployment" and o["name"] == "web" for o in owners):
            out[rs["metadata"]["annotations"][REVISION]] = rs
    return out


def _deployment(apps: client.AppsV1Api, ns: str) -> dict[str, Any]:
    return as_json(apps.read_namespaced_deployment("web", ns))


def _image(obj: dict[str, Any]) -> str:
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


def _available(dep: dict[str, Any]) -> str | None:
    cond = condition(dep, "Available")
    return None if cond is None else str(cond["status"])


def test_rollout_history_and_undo(
    kube_cluster: KubeCluster, kube_namespace: str, kubelet: FakeKubelet
) -> None:
    ns, plane = kube_namespace, kube_cluster.plane
    apps = client.AppsV1Api(kube_cluster.api)
    plane.kubectl("apply", "-n", ns, "-f", str(FIXTURES / "deployment.yaml"))

    rs1 = wait_for("revision 1", lambda: _replica_sets(apps, ns).get("1"))
    assert _image(rs1) == "em-test/web:1"
    pods = kubelet.wait_for_pods(ns, "app=web", 2)
    assert all("nodeName" not in p["spec"] for p in pods)  # nothing schedules them
    unavailable = wait_for(
        "Available=False before any pod is ready",
        lambda: d if _available(d := _deployment(apps, ns)) == "False" else None,
    )
    assert not unavailable["status"].get("availableReplicas")

    dep = kubelet.settle_deployment("web", ns)
    assert _available(dep) == "True"
    assert dep["status"]["readyReplicas"] == 2

    plane.kubectl("set", "image", "-n", ns, "deployment/web", "web=em-test/web:2")
    rs2 = wait_for("revision 2", lambda: _replica_sets(apps, ns).get("2"))
    assert _image(rs2) == "em-test/web:2"
    kubelet.settle_deployment("web", ns)
    rsets = _replica_sets(apps, ns)
    assert rsets["2"]["status"]["replicas"] == 2
    assert rsets["1"]["spec"]["replicas"] == 0  # kept as history, scaled down
    history = plane.kubectl("rollout", "history", "-n", ns, "deployment/web").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]

    plane.kubectl("rollout", "undo", "-n", ns, "deployment/web")
    wait_for(
        "template back to revision 1",
        lambda: _image(_deployment(apps, ns)) == "em-test/web:1",
    )
    dep = kubelet.settle_deployment("web", ns)
    assert dep["metadata"]["annotations"][REVISION] == "3"  # undo re-labels the old ReplicaSet
    rsets = _replica_sets(apps, ns)
    assert set(rsets) == {"2", "3"}
    assert rsets["3"]["metadata"]["name"] == rs1["metadata"]["name"]
    assert rsets["2"]["spec"]["replicas"] == 0
    live = kubelet.pods(ns, "app=web")
    assert len(live) == 2
    assert {p["spec"]["containers"][0]["image"] for p in live} == {"em-test/web:1"}


def test_unready_pods_keep_deployment_unavailable(
    kube_cluster: KubeCluster, kube_namespace: str, kubelet: FakeKubelet
) -> None:
    ns = kube_namespace
    apps = client.AppsV1Api(kube_cluster.api)
    kube_cluster.plane.kubectl("apply", "-n", ns, "-f", str(FIXTURES / "deployment.yaml"))
    for pod in kubelet.wait_for_pods(ns, "app=web", 2):
        kubelet.mark_running(pod["metadata"]["name"], ns, ready=False)

    def observed() -> dict[str, Any] | None:
        dep = _deployment(apps, ns)
        return dep if dep.get("status", {}).get("replicas") == 2 else None

    dep = wait_for("two running, unready pods observed", observed)
    assert _available(dep) == "False"
    assert not dep["status"].get("readyReplicas") and not dep["status"].get("availableReplicas")

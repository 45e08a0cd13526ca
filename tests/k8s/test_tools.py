"""kubectl and helm work against the local control plane like against any cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client

from tests.support.kube_fixtures import KubeCluster
from tests.support.kubelet import FakeKubelet, as_json, wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.slow]

CHART = Path(__file__).parent / "fixtures" / "charts" / "em-probe"


def test_kubectl_talks_to_the_cluster(kube_cluster: KubeCluster) -> None:
    plane = kube_cluster.plane
    version = json.loads(plane.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.36.3"
    assert plane.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"
    assert plane.kubectl("auth", "can-i", "*", "*").stdout.strip() == "yes"  # system:masters


def test_helm_lint_and_template(kube_cluster: KubeCluster) -> None:
    plane = kube_cluster.plane
    lint = plane.helm("lint", str(CHART))
    assert "1 chart(s) linted, 0 chart(s) failed" in lint.stdout
    rendered = plane.helm(
        "template", "demo", str(CHART), "--set", "message=from-test", "--set", "replicaCount=2"
    ).stdout
    assert 'message: "from-test"' in rendered and "replicas: 2" in rendered
    broken = plane.helm("lint", str(CHART), "--set", "image=oops", check=False)
    assert broken.returncode != 0


def test_helm_install_upgrade_uninstall(
    kube_cluster: KubeCluster, kube_namespace: str, kubelet: FakeKubelet
) -> None:
    plane, ns = kube_cluster.plane, kube_namespace
    core = client.CoreV1Api(kube_cluster.api)
    plane.helm("install", "demo", str(CHART), "-n", ns, "--set", "message=installed")
    cm = as_json(core.read_namespaced_config_map("demo-em-probe", ns))
    assert cm["data"]["message"] == "installed"
    assert cm["data"]["kubeVersion"] == "v1.36.3"  # helm read the server's version
    dep = kubelet.settle_deployment("demo-em-probe", ns)
    assert dep["status"]["availableReplicas"] == 1

    plane.helm("upgrade", "demo", str(CHART), "-n", ns, "--set", "message=upgraded")
    releases = json.loads(plane.helm("list", "-n", ns, "-o", "json").stdout)
    assert [(r["name"], r["revision"], r["status"]) for r in releases] == [
        ("demo", "2", "deployed")
    ]
    cm = as_json(core.read_namespaced_config_map("demo-em-probe", ns))
    assert cm["data"]["message"] == "upgraded"

    plane.helm("uninstall", "demo", "-n", ns)
    wait_for(
        "release objects deleted",
        lambda: (
            not core.list_namespaced_config_map(
                ns, label_selector="app.kubernetes.io/instance=demo"
            ).items
        ),
    )

"""Every manifest the project ships is accepted by a real API server (server-side dry-run):
what a platform engineer would `kubectl apply` on a real cluster, checked without Docker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.kube_fixtures import KubeCluster

pytestmark = [pytest.mark.k8s, pytest.mark.slow]

K8S = Path(__file__).resolve().parents[2] / "k8s"


def test_crds_install_and_everything_else_dry_runs(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    kubectl = kube_cluster.plane.kubectl
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(K8S / "crds"))
    kubectl("wait", "--for=condition=Established", "--timeout=30s", "-f", str(K8S / "crds"))
    kubectl("create", "namespace", "everything-market", check=False)
    for manifest in (
        K8S / "rbac" / "em-operator.yaml",
        K8S / "dev" / "dependencies.yaml",
        K8S / "dev" / "operator.yaml",
    ):
        result = kubectl("apply", "--dry-run=server", "-f", str(manifest), check=False)
        assert result.returncode == 0, f"{manifest.name}: {result.stderr}"
    for sample in sorted((K8S / "samples").glob("*.yaml")):
        result = kubectl(
            "apply", "--dry-run=server", "-n", kube_namespace, "-f", str(sample), check=False
        )
        assert result.returncode == 0, f"{sample.name}: {result.stderr}"


def test_a_broken_market_is_refused_with_the_reason(
    kube_cluster: KubeCluster, kube_namespace: str, tmp_path: Path
) -> None:
    kubectl = kube_cluster.plane.kubectl
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(K8S / "crds"))
    kubectl("wait", "--for=condition=Established", "--timeout=30s", "-f", str(K8S / "crds"))
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "apiVersion: everythingmarket.io/v1alpha1\n"
        "kind: EverythingMarket\n"
        "metadata: {name: broken}\n"
        "spec:\n"
        "  version: '1.0.0'\n"
        "  database: {secretRef: {name: db}}\n"
        "  backend: {replicas: -1}\n"
    )
    result = kubectl(
        "apply", "--dry-run=server", "-n", kube_namespace, "-f", str(broken), check=False
    )
    assert result.returncode != 0
    assert "replicas" in result.stderr

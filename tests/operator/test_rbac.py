"""The operator runs with exactly the ClusterRole in k8s/rbac/em-operator.yaml."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kube_fixtures import KubeCluster
from tests.support.kubelet import wait_for
from tests.support.markets import Market, PlayedKubelet, install
from tests.support.operator_process import OperatorFactory

pytestmark = [pytest.mark.k8s, pytest.mark.slow]

ROLE = Path(__file__).resolve().parents[2] / "k8s" / "rbac" / "em-operator.yaml"


def service_account_kubeconfig(
    kube_cluster: KubeCluster, namespace: str, name: str, into: Path
) -> Path:
    """A kubeconfig that authenticates as the ServiceAccount (a TokenRequest token)."""
    core = client.CoreV1Api(kube_cluster.api)
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
    )
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
    )
    answer = core.create_namespaced_service_account_token(name, namespace, request)
    assert answer.status is not None
    token = answer.status.token
    admin = json.loads(kube_cluster.kubeconfig.read_text())
    cluster = admin["clusters"][0]
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": cluster["name"], "user": name,
                                                "namespace": namespace}}],
        "current-context": name,
    }  # fmt: skip
    into.mkdir(parents=True, exist_ok=True)
    path = into / f"{name}.kubeconfig"
    path.write_text(json.dumps(doc))
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"])
    return path


def gone(market: Market) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            market.get()
        except ApiException as exc:
            return bool(exc.status == 404)
        return False

    return probe


def test_the_documented_cluster_role_is_enough(
    kube_cluster: KubeCluster,
    kube_namespace: str,
    operator_factory: OperatorFactory,
    played: PlayedKubelet,
    db_secret: str,
    market: Market,
    tmp_path: Path,
) -> None:
    rbac = client.RbacAuthorizationV1Api(kube_cluster.api)
    role = yaml.safe_load(ROLE.read_text())
    role["metadata"]["name"] = f"em-operator-{kube_namespace}"
    rbac.create_cluster_role(role)
    binding: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": role["metadata"]["name"]},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": role["metadata"]["name"]},
        "subjects": [{"kind": "ServiceAccount", "name": "em-operator",
                      "namespace": kube_namespace}],
    }  # fmt: skip
    rbac.create_cluster_role_binding(cast(Any, binding))
    try:
        kubeconfig = service_account_kubeconfig(
            kube_cluster, kube_namespace, "em-operator", tmp_path
        )
        operator = operator_factory(kubeconfig)
        install(market, "1.0.0")
        market.patch({"version": "2.0.0"})
        market.wait_status(
            "2.0.0 Ready", lambda s: s.get("currentVersion") == "2.0.0" and s["phase"] == "Ready"
        )
        assert market.wait_event("RolloutSucceeded")
        refused = [
            r for r in operator.records() if "403" in json.dumps(r) or "Forbidden" in json.dumps(r)
        ]
        assert not refused, refused[:3]
        market.custom.delete_namespaced_custom_object(
            "everythingmarket.io", "v1alpha1", kube_namespace, "everythingmarkets", "market"
        )
        wait_for("the market gone (its finalizer removed by the operator)", gone(market), 20)
    finally:
        rbac.delete_cluster_role_binding(role["metadata"]["name"])
        rbac.delete_cluster_role(role["metadata"]["name"])

"""The API server itself: CRDs with status, printer columns and CEL rules; dry-run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kube_fixtures import KubeCluster
from tests.support.kubelet import as_json, condition_true, wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.slow]

FIXTURES = Path(__file__).parent / "fixtures"
GROUP, VERSION, PLURAL = "test.everythingmarket.io", "v1alpha1", "widgets"


def _widget(name: str, **spec: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": spec,
    }


def _get(custom: client.CustomObjectsApi, ns: str, name: str) -> dict[str, Any]:
    return cast(
        dict[str, Any], custom.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)
    )


@pytest.fixture(scope="module")
def widget_crd(kube_cluster: KubeCluster) -> str:
    kube_cluster.plane.kubectl("apply", "-f", str(FIXTURES / "widget-crd.yaml"))
    ext = client.ApiextensionsV1Api(kube_cluster.api)

    def established() -> bool:
        crd = as_json(ext.read_custom_resource_definition(f"{PLURAL}.{GROUP}"))
        return condition_true(crd, "Established")

    wait_for("CRD established", established)
    return f"{PLURAL}.{GROUP}"


def test_cel_rule_refuses_invalid_object(
    kube_cluster: KubeCluster, kube_namespace: str, widget_crd: str
) -> None:
    custom = client.CustomObjectsApi(kube_cluster.api)
    ns = kube_namespace
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, _widget("ok", replicas=2))
    with pytest.raises(ApiException) as refused:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, ns, PLURAL, _widget("bad", replicas=1, minReplicas=3)
        )
    assert refused.value.status == 422
    assert "minReplicas must not exceed replicas" in str(refused.value.body)
    # kubectl shows the same refusal to a person
    res = kube_cluster.plane.kubectl(
        "create", "-n", ns, "-f", "-", check=False,
        stdin='{"apiVersion":"test.everythingmarket.io/v1alpha1","kind":"Widget",'
        '"metadata":{"name":"bad2"},"spec":{"replicas":0,"minReplicas":1}}',
    )  # fmt: skip
    assert res.returncode != 0 and "minReplicas must not exceed replicas" in res.stderr


def test_status_subresource_and_printer_columns(
    kube_cluster: KubeCluster, kube_namespace: str, widget_crd: str
) -> None:
    custom = client.CustomObjectsApi(kube_cluster.api)
    ns = kube_namespace
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, _widget("w", replicas=3))
    # status written through the main resource is dropped ...
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, ns, PLURAL, "w", {"status": {"phase": "Ignored"}}
    )
    obj = _get(custom, ns, "w")
    assert "status" not in obj
    # ... and only the status subresource sets it, without bumping the generation
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, ns, PLURAL, "w", {"status": {"phase": "Ready", "observedGeneration": 1}}
    )
    obj = _get(custom, ns, "w")
    assert obj["status"]["phase"] == "Ready" and obj["metadata"]["generation"] == 1
    table = kube_cluster.plane.kubectl("get", "-n", ns, "widgets").stdout.splitlines()
    assert table[0].split() == ["NAME", "PHASE", "REPLICAS", "AGE"]
    assert table[1].split()[:3] == ["w", "Ready", "3"]


def test_server_side_dry_run(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    plane, ns = kube_cluster.plane, kube_namespace
    ok = plane.kubectl("apply", "--dry-run=server", "-n", ns, "-f", str(FIXTURES / "sample.yaml"))
    assert "deployment.apps/sample created (server dry run)" in ok.stdout
    gone = plane.kubectl("get", "-n", ns, "deployment/sample", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr  # nothing was persisted

    bad = plane.kubectl(
        "apply", "--dry-run=server", "-n", ns, "-f", str(FIXTURES / "broken.yaml"), check=False
    )
    assert bad.returncode != 0
    assert "spec.replicas: Invalid value: -1" in bad.stderr
    assert "`selector` does not match template `labels`" in bad.stderr

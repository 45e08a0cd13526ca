"""Jobs complete or fail from pod phases the test reports in place of a kubelet."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from tests.support.kube_fixtures import KubeCluster
from tests.support.kubelet import FakeKubelet, as_json, condition, condition_true, wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.slow]


def _job(name: str, backoff_limit: int) -> client.V1Job:
    return client.V1Job(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1JobSpec(
            backoff_limit=backoff_limit,
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[client.V1Container(name="main", image="em-test/task:1")],
                )
            ),
        ),
    )


def _job_if(batch: client.BatchV1Api, name: str, ns: str, kind: str) -> dict[str, Any] | None:
    job = as_json(batch.read_namespaced_job_status(name, ns))
    return job if condition_true(job, kind) else None


def test_succeeded_pod_completes_job(
    kube_cluster: KubeCluster, kube_namespace: str, kubelet: FakeKubelet
) -> None:
    ns = kube_namespace
    batch = client.BatchV1Api(kube_cluster.api)
    batch.create_namespaced_job(ns, _job("smoke", backoff_limit=0))
    (pod,) = kubelet.wait_for_pods(ns, "batch.kubernetes.io/job-name=smoke", 1)
    kubelet.mark_succeeded(pod["metadata"]["name"], ns)
    job = wait_for("Job Complete", lambda: _job_if(batch, "smoke", ns, "Complete"))
    assert job["status"]["succeeded"] == 1 and not job["status"].get("failed")


def test_failures_beyond_backoff_limit_fail_job(
    kube_cluster: KubeCluster, kube_namespace: str, kubelet: FakeKubelet
) -> None:
    ns = kube_namespace
    batch = client.BatchV1Api(kube_cluster.api)
    core = client.CoreV1Api(kube_cluster.api)
    batch.create_namespaced_job(ns, _job("migrate", backoff_limit=1))
    selector = "batch.kubernetes.io/job-name=migrate"

    (first,) = kubelet.wait_for_pods(ns, selector, 1)
    first_name = first["metadata"]["name"]
    kubelet.mark_failed(first_name, ns, exit_code=3, message="alembic: no such head")
    # backoffLimit 1 allows one retry: a second pod comes after the ~10 s pod backoff.
    (second,) = kubelet.wait_for_pods(ns, selector, 1)
    assert second["metadata"]["name"] != first_name
    assert _job_if(batch, "migrate", ns, "Failed") is None
    kubelet.mark_failed(second["metadata"]["name"], ns, exit_code=3, message="still no head")

    job = wait_for("Job Failed", lambda: _job_if(batch, "migrate", ns, "Failed"))
    failed = condition(job, "Failed")
    assert failed is not None and failed["reason"] == "BackoffLimitExceeded"
    assert job["status"]["failed"] == 2 and not job["status"].get("succeeded")
    pod = as_json(core.read_namespaced_pod(first_name, ns))
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 3 and terminated["message"] == "alembic: no such head"

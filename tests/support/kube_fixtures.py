"""pytest fixtures for the local control plane (see tests/support/kube.py).

Register as a plugin (root conftest `pytest_plugins`); tests/k8s/conftest.py also
registers it by name, which is a no-op when the root already did.

Missing binaries skip the tests with the reason, except under CI=true, where they fail:
CI must never go green by skipping the cluster.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client

from tests.support import prereq
from tests.support.kube import BinariesMissingError, ClusterBinaries, ControlPlane
from tests.support.kubelet import FakeKubelet, wait_for


@dataclass(frozen=True)
class KubeCluster:
    """What a test gets: where the cluster is and a configured client for it."""

    kubeconfig: Path
    api: client.ApiClient
    plane: ControlPlane


def locate_binaries_or_skip() -> ClusterBinaries:
    if not (os.environ.get("EM_KUBECTL") or shutil.which("kubectl")):
        prereq.missing("kubectl is not on PATH (Debian/Ubuntu: the kubectl package)")
    try:
        return ClusterBinaries.locate()
    except BinariesMissingError as exc:
        prereq.missing(str(exc))


@pytest.fixture(scope="session")
def kube_cluster() -> Iterator[KubeCluster]:
    """One control plane for the whole session; torn down (and checked) at the end."""
    plane = ControlPlane(locate_binaries_or_skip()).start()
    api = plane.api_client()
    try:
        yield KubeCluster(kubeconfig=plane.kubeconfig, api=api, plane=plane)
    finally:
        api.close()  # type: ignore[no-untyped-call]
        plane.stop()


@pytest.fixture
def kube_namespace(kube_cluster: KubeCluster) -> Iterator[str]:
    """A fresh namespace per test, so tests sharing the cluster never see each other."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(kube_cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    # The service-account controller adds `default`; pods are refused until it exists.
    wait_for(
        f"serviceaccount default in {name}",
        lambda: (
            core.list_namespaced_service_account(name, field_selector="metadata.name=default").items
        ),
    )
    yield name
    core.delete_namespace(name)


@pytest.fixture
def kubelet(kube_cluster: KubeCluster) -> FakeKubelet:
    return FakeKubelet(kube_cluster.api)

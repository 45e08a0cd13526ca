"""Fixtures for the operator on the local control plane: CRDs, the operator process, a market.

Each test gets a fresh namespace, its own `em operator` process watching only that
namespace, and a played kubelet for the market's pods. The control plane itself is
one per session (tests.support.kube_fixtures).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kube_fixtures import KubeCluster
from tests.support.kubelet import as_json, condition_true, wait_for
from tests.support.markets import (
    HEADS,
    Market,
    PlayedKubelet,
    create_db_secret,
    migrate_by_version,
    succeed,
)
from tests.support.operator_process import OperatorFactory, OperatorProcess

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "k8s" / "crds"


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("tests.support.kube_fixtures"):
        config.pluginmanager.import_plugin("tests.support.kube_fixtures")


@pytest.fixture(scope="session")
def market_crds(kube_cluster: KubeCluster) -> None:
    kube_cluster.plane.kubectl("apply", "-f", str(CRDS))
    ext = client.ApiextensionsV1Api(kube_cluster.api)
    for name in ("everythingmarkets", "marketbackups", "marketrestores"):
        wait_for(
            f"CRD {name} established",
            lambda name=name: condition_true(  # type: ignore[misc]
                as_json(ext.read_custom_resource_definition(f"{name}.everythingmarket.io")),
                "Established",
            ),
        )


@pytest.fixture
def db_secret(kube_cluster: KubeCluster, kube_namespace: str) -> str:
    create_db_secret(kube_cluster.api, kube_namespace)
    return "market-db"


@pytest.fixture
def market(kube_cluster: KubeCluster, kube_namespace: str, market_crds: None) -> Market:
    return Market(kube_cluster.api, kube_namespace)


@pytest.fixture
def operator_factory(
    kube_cluster: KubeCluster, kube_namespace: str, market_crds: None, tmp_path: Path
) -> Iterator[OperatorFactory]:
    """Starts `em operator` processes for the test's namespace (admin kubeconfig unless
    given); at the end deletes the markets while one still runs, then stops them all."""
    started: list[OperatorProcess] = []

    def start(kubeconfig: Path | None = None, peering: int | None = None) -> OperatorProcess:
        workdir = tmp_path / f"operator-{len(started) + 1}"
        process = OperatorProcess(
            kubeconfig or kube_cluster.kubeconfig, kube_namespace, workdir, peering=peering
        )
        started.append(process)
        return process.start()

    try:
        yield start
    finally:
        if started:  # the last one started: with peering, the others may stand by
            _delete_markets(kube_cluster.api, kube_namespace, started[-1])
        for process in started:
            process.stop()
            print(f"--- em operator log, {process.starts} start(s) ---\n{timeline(process)}")


@pytest.fixture
def operator(operator_factory: OperatorFactory) -> OperatorProcess:
    return operator_factory()


def timeline(process: OperatorProcess, limit: int = 200) -> str:
    """The operator's log records, one short line each (shown when a test fails)."""
    keys = ("phase", "job", "error", "market", "exc")
    lines = []
    for record in process.records()[-limit:]:
        extra = " ".join(f"{k}={record[k]}" for k in keys if k in record)
        when = str(record.get("ts", ""))[11:23]
        lines.append(f"{when} {record.get('level', '')} {record.get('logger', '')}: "
                     f"{record.get('msg', '')} {extra}")  # fmt: skip
    return "\n".join(lines)


def _delete_markets(api: client.ApiClient, namespace: str, process: OperatorProcess) -> None:
    """While the operator runs, so its finalizer goes and the namespace can be deleted."""
    custom = client.CustomObjectsApi(api)
    group, version, plural = "everythingmarket.io", "v1alpha1", "everythingmarkets"
    if process.process is None or not process.process.alive():
        process.start()
    custom.delete_collection_namespaced_custom_object(group, version, namespace, plural)

    def markets() -> list[dict[str, Any]]:
        found = custom.list_namespaced_custom_object(group, version, namespace, plural)
        return list(cast(dict[str, Any], found)["items"])

    try:
        wait_for("markets deleted", lambda: not markets(), timeout=20)
    except AssertionError:
        for item in markets():
            try:
                custom.patch_namespaced_custom_object(
                    group, version, namespace, plural, item["metadata"]["name"],
                    {"metadata": {"finalizers": None}},
                )  # fmt: skip
            except ApiException:
                continue


@pytest.fixture
def played(kube_cluster: KubeCluster, kube_namespace: str) -> Iterator[PlayedKubelet]:
    """Workload pods turn Ready; migrate Jobs report HEADS; smoke Jobs pass."""
    kubelet = PlayedKubelet(kube_cluster.plane.api_client(), kube_namespace)
    kubelet.policies["migrate"] = migrate_by_version(HEADS)
    kubelet.policies["smoke"] = succeed
    kubelet.start()
    yield kubelet
    kubelet.stop()

"""A sample EverythingMarket applied to a real API server, with `em operator` running."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kube_fixtures import KubeCluster
from tests.support.kubelet import as_json
from tests.support.markets import (
    HEADS,
    Market,
    PlayedKubelet,
    create_db_secret,
    image,
)
from tests.support.operator_process import OperatorProcess, http_get

pytestmark = [pytest.mark.k8s, pytest.mark.slow]

SAMPLE = Path(__file__).resolve().parents[2] / "k8s" / "samples" / "everythingmarket-minimal.yaml"


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env") or []}


def secret_ref(env: dict[str, dict[str, Any]], name: str) -> tuple[str, str]:
    ref = env[name]["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


def owned_by(obj: dict[str, Any], market: dict[str, Any]) -> bool:
    refs = obj["metadata"].get("ownerReferences") or []
    return any(
        r["uid"] == market["metadata"]["uid"]
        and r.get("controller")
        and r["kind"] == "EverythingMarket"
        for r in refs
    )


def test_sample_market_deploys_everything_it_owns(
    kube_cluster: KubeCluster,
    kube_namespace: str,
    operator: OperatorProcess,
    played: PlayedKubelet,
    db_secret: str,
    market: Market,
) -> None:
    kube_cluster.plane.kubectl("apply", "-n", kube_namespace, "-f", str(SAMPLE))
    status = market.wait_phase("Ready", "Ready")
    body = market.get()

    assert status["currentVersion"] == "1.0.0" and status["currentRevision"] == 1
    (entry,) = status["history"]
    assert entry["outcome"] == "Succeeded" and entry["migrationHead"] == HEADS["1.0.0"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Ready": "True", "Available": "True", "Migrated": "True",
        "Progressing": "False", "MaintenanceActive": "False",
    }  # fmt: skip

    # The migrate Job ran first, with the image and DATABASE_URL from the Secret.
    (migrate,) = market.jobs("migrate")
    (container,) = migrate["spec"]["template"]["spec"]["containers"]
    assert container["image"] == image("1.0.0")
    assert container["args"] == ["migrate", "upgrade", "head"]
    assert secret_ref(env_of(container), "DATABASE_URL") == ("market-db", "DATABASE_URL")
    assert len(market.jobs("smoke")) == 1

    for component in ("backend", "orderbook", "reality"):
        workload = market.workload(component)
        assert workload is not None and owned_by(workload, body), component
        pod = workload["spec"]["template"]["spec"]
        (main,) = pod["containers"]
        env = env_of(main)
        assert main["image"] == image("1.0.0")
        assert secret_ref(env, "DATABASE_URL") == ("market-db", "DATABASE_URL")
        if component != "orderbook":
            assert secret_ref(env, "REALITY_API_SECRET") == ("market-app", "REALITY_API_SECRET")
        assert "readinessProbe" in main and "livenessProbe" in main
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert main["resources"]["requests"]["cpu"]
    backend = market.workload("backend")
    assert backend is not None
    (main,) = backend["spec"]["template"]["spec"]["containers"]
    assert main["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8000, "scheme": "HTTP"}
    assert secret_ref(env_of(main), "JWT_SECRET") == ("market-app", "JWT_SECRET")
    assert backend["spec"]["replicas"] == 2
    orderbook = market.workload("orderbook")
    assert orderbook is not None
    (main,) = orderbook["spec"]["template"]["spec"]["containers"]
    assert main["readinessProbe"]["grpc"]["port"] == 50051
    assert main["livenessProbe"]["httpGet"]["path"] == "/"

    core, ns = market.core, kube_namespace
    for name in ("market-backend", "market-orderbook", "market-reality"):
        assert owned_by(as_json(core.read_namespaced_service(name, ns)), body)
    app = as_json(core.read_namespaced_secret("market-app", ns))
    assert set(app["data"]) == {"REALITY_API_SECRET", "ADMIN_API_KEY", "JWT_SECRET"}
    assert owned_by(app, body)
    settings = as_json(core.read_namespaced_config_map("market-settings", ns))
    assert settings["data"]["ORDERBOOK_SHARD_COUNT"] == "1" and owned_by(settings, body)
    assert owned_by(as_json(core.read_namespaced_service_account("market", ns)), body)
    # A PodDisruptionBudget for the two backend replicas.
    policy = client.PolicyV1Api(kube_cluster.api)
    budget = as_json(policy.read_namespaced_pod_disruption_budget("market-backend", ns))
    assert budget["spec"]["maxUnavailable"] == 1 and owned_by(budget, body)

    market.wait_events("RolloutStarted", "MigrationStarted", "MigrationSucceeded",
                       "SmokeTestStarted", "SmokeTestSucceeded", "RolloutSucceeded")  # fmt: skip

    # kubectl get em: the printer columns.
    shown = kube_cluster.plane.kubectl("get", "em", "-n", kube_namespace).stdout.splitlines()
    assert shown[0].split() == ["NAME", "PHASE", "VERSION", "READY", "MAINTENANCE",
                                "LAST", "BACKUP", "AGE"]  # fmt: skip
    assert shown[1].split()[:5] == ["market", "Ready", "1.0.0", "True", "false"]

    # The operator's own endpoint.
    metrics = http_get(operator.port, "/metrics")
    assert metrics is not None and metrics[0] == 200
    labels = f'market="market",namespace="{kube_namespace}",phase="Ready"'
    assert f"em_operator_market_phase{{{labels}}} 1.0" in metrics[1]
    assert 'em_operator_reconciliations_total{result="ok"}' in metrics[1]
    assert http_get(operator.port, "/healthz") == (200, '{"status": "ok"}')


def test_kubectl_explain_documents_the_spec(kube_cluster: KubeCluster, market_crds: None) -> None:
    spec = kube_cluster.plane.kubectl("explain", "em.spec").stdout
    assert "The desired state of the market." in spec
    for field in ("version", "image", "backend", "orderbook", "reality", "database", "rollback"):
        assert f"  {field}\t" in spec or f"  {field} " in spec, field
    deadline = kube_cluster.plane.kubectl(
        "explain", "everythingmarkets.spec.rollback.progressDeadlineSeconds"
    ).stdout
    assert "How long a rollout step" in deadline
    status = kube_cluster.plane.kubectl("explain", "em.status.history").stdout
    assert "migrationHead" in status


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"ingress": {"enabled": True}}, "host is required when the ingress is enabled"),
        ({"ingress": {"enabled": True, "host": "m.example.com"}, "backend": {"replicas": 0}},
         "an enabled ingress needs at least one backend replica"),
        ({"reality": {"sources": "feeds: []", "sourcesConfigMap": {"name": "s"}}},
         "set sources or sourcesConfigMap, not both"),
        ({"maintenance": {"until": "2030-01-01T00:00:00Z"}},
         "until only applies while maintenance is enabled"),
        ({"backup": {"schedule": "@daily"}}, "a backup schedule needs storage"),
        ({"rollback": {"progressDeadlineSeconds": 5}}, "should be greater than or equal to 10"),
        ({"reality": {"replicas": 2}}, "should be less than or equal to 1"),
        ({"version": "not a tag!"}, "spec.version"),
    ],
)  # fmt: skip
def test_invalid_specs_are_refused_by_the_api_server(
    kube_cluster: KubeCluster,
    kube_namespace: str,
    market: Market,
    spec: dict[str, Any],
    message: str,
) -> None:
    body = market.body("1.0.0")
    body["spec"].update(spec)
    with pytest.raises(ApiException) as refused:
        market.custom.create_namespaced_custom_object(
            "everythingmarket.io", "v1alpha1", kube_namespace, "everythingmarkets", body
        )
    assert refused.value.status == 422
    assert message in str(refused.value.body)


def test_immutable_fields_are_refused_on_update(
    kube_cluster: KubeCluster, kube_namespace: str, market: Market
) -> None:
    market.create("1.0.0", orderbook={"shards": 2}, secrets={"rotationGeneration": 3})
    with pytest.raises(ApiException) as shards:
        market.patch({"orderbook": {"shards": 3}})
    assert shards.value.status == 422 and "shards is immutable" in str(shards.value.body)
    with pytest.raises(ApiException) as rotation:
        market.patch({"secrets": {"rotationGeneration": 2}})
    assert "rotationGeneration can only increase" in str(rotation.value.body)
    assert (
        market.patch({"secrets": {"rotationGeneration": 4}})["spec"]["secrets"][
            "rotationGeneration"
        ]
        == 4
    )


def test_missing_database_secret_is_named_then_the_install_resumes(
    kube_cluster: KubeCluster,
    kube_namespace: str,
    operator: OperatorProcess,
    played: PlayedKubelet,
    market: Market,
) -> None:
    market.create("1.0.0")
    status = market.wait_phase("Pending", "DatabaseSecretMissing")
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert f"Secret {kube_namespace}/market-db" in ready["message"]
    assert "DATABASE_URL" in ready["message"]
    assert market.jobs() == [] and market.workload("backend") is None
    (event,) = market.wait_event("DatabaseSecretMissing")
    assert event["type"] == "Warning"

    create_db_secret(kube_cluster.api, kube_namespace)
    status = market.wait_phase("Ready", "Ready")
    assert status["currentVersion"] == "1.0.0"

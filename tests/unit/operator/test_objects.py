"""The objects a market owns, built from the spec alone."""

from __future__ import annotations

import base64
import itertools
from typing import Any

from em_operator.runbook import desired, naming, objects, specs, workloads

MARKET = naming.MarketRef("market", "shop", "uid-1", 4)


def parse(**extra: Any) -> specs.MarketSpec:
    return specs.parse({"version": "1.2.0", "database": {"secretRef": {"name": "db"}}, **extra})


def build(
    spec: specs.MarketSpec, version: str | None = "1.2.0", secret: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    tokens = itertools.count(1)
    return desired.build(
        MARKET, spec, version, secret, lambda: f"t{next(tokens)}", {"enabled": False}
    )


def find(items: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [i for i in items if i["kind"] == kind and i["metadata"]["name"] == name]
    return found


def container(workload: dict[str, Any]) -> dict[str, Any]:
    (main,) = workload["spec"]["template"]["spec"]["containers"]
    return dict(main)


def env(main: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in main["env"]}


def test_every_object_is_owned_labelled_and_namespaced() -> None:
    items = build(
        parse(
            ingress={"enabled": True, "host": "m.example.com"},
            backend={"replicas": 3},
            orderbook={"shards": 2},
        )
    )
    kinds = sorted(i["kind"] for i in items)
    assert kinds == sorted(
        [
            "ServiceAccount",
            "Secret",
            "ConfigMap",
            "ConfigMap",
            "Service",
            "Service",
            "Service",
            "StatefulSet",
            "Deployment",
            "Deployment",
            "PodDisruptionBudget",
            "PodDisruptionBudget",
            "Ingress",
        ]
    )
    for item in items:
        meta = item["metadata"]
        assert meta["namespace"] == "shop"
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "everythingmarket.io/v1alpha1",
                "kind": "EverythingMarket",
                "name": "market",
                "uid": "uid-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert meta["labels"]["app.kubernetes.io/instance"] == "market"
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "em-operator"


def test_workloads_run_em_with_the_given_version_and_probes() -> None:
    items = build(parse(), version="1.1.0")
    backend = container(find(items, "Deployment", "market-backend"))
    assert backend["image"] == "ghcr.io/everything-market/em:1.1.0"
    assert backend["args"] == ["backend"] and "command" not in backend
    assert backend["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8000}
    assert backend["livenessProbe"]["httpGet"] == {"path": "/health", "port": 8000}
    orderbook = container(find(items, "StatefulSet", "market-orderbook"))
    assert orderbook["args"] == ["orderbook"]
    assert orderbook["readinessProbe"]["grpc"] == {"port": 50051}
    assert orderbook["livenessProbe"]["httpGet"] == {"path": "/", "port": 8001}
    reality = container(find(items, "Deployment", "market-reality"))
    assert reality["args"] == ["reality"]
    assert reality["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8002}
    assert find(items, "Deployment", "market-reality")["spec"]["strategy"] == {"type": "Recreate"}


def test_pods_are_non_root_with_requests_and_no_api_token() -> None:
    for item in build(parse()):
        if item["kind"] not in ("Deployment", "StatefulSet"):
            continue
        pod = item["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        assert pod["serviceAccountName"] == "market"
        main = container(item)
        assert main["securityContext"]["allowPrivilegeEscalation"] is False
        assert main["securityContext"]["readOnlyRootFilesystem"] is True
        assert set(main["resources"]["requests"]) == {"cpu", "memory"}


def test_secrets_come_from_secret_refs_never_literals() -> None:
    items = build(parse())
    values = env(container(find(items, "Deployment", "market-backend")))
    assert values["DATABASE_URL"] == {"secretKeyRef": {"name": "db", "key": "DATABASE_URL"}}
    for key in objects.APP_SECRET_KEYS:
        assert values[key] == {"secretKeyRef": {"name": "market-app", "key": key}}
    assert "JWT_SECRET" not in env(container(find(items, "StatefulSet", "market-orderbook")))


def test_orderbook_shards_are_statefulset_ordinals() -> None:
    items = build(parse(orderbook={"shards": 3}))
    sts = find(items, "StatefulSet", "market-orderbook")
    assert sts["spec"]["replicas"] == 3 and sts["spec"]["serviceName"] == "market-orderbook"
    values = env(container(sts))
    assert values["ORDERBOOK_SHARD_COUNT"]["configMapKeyRef"]["key"] == "ORDERBOOK_SHARD_COUNT"
    assert values["ORDERBOOK_SHARD_INDEX"] == {"fieldRef": {"fieldPath": workloads.POD_INDEX_LABEL}}
    settings = find(items, "ConfigMap", "market-settings")["data"]
    assert settings["ORDERBOOK_SHARD_COUNT"] == "3"
    assert settings["ORDERBOOK_ADDRS"].split(",")[2] == (
        "market-orderbook-2.market-orderbook.shop.svc:50051"
    )


def test_services_and_headless_orderbook() -> None:
    items = build(parse())
    ports = {
        i["metadata"]["name"]: [p["port"] for p in i["spec"]["ports"]]
        for i in items
        if i["kind"] == "Service"
    }
    assert ports == {
        "market-backend": [8000],
        "market-orderbook": [50051, 8001],
        "market-reality": [8002],
    }
    assert find(items, "Service", "market-orderbook")["spec"]["clusterIP"] == "None"


def test_ingress_routes_to_the_backend_with_tls() -> None:
    items = build(
        parse(
            ingress={
                "enabled": True,
                "host": "m.example.com",
                "className": "nginx",
                "tlsSecretName": "m-tls",
            }
        )
    )
    ingress = find(items, "Ingress", "market-backend")["spec"]
    assert ingress["ingressClassName"] == "nginx"
    assert ingress["tls"] == [{"hosts": ["m.example.com"], "secretName": "m-tls"}]
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "market-backend", "port": {"number": 8000}}
    assert not [i for i in build(parse()) if i["kind"] == "Ingress"]


def test_app_secret_is_generated_only_for_missing_keys() -> None:
    items = build(parse(), secret={"JWT_SECRET": "keep-me"})
    data = find(items, "Secret", "market-app")["data"]
    decoded = {k: base64.b64decode(v).decode() for k, v in data.items()}
    assert decoded == {"JWT_SECRET": "keep-me", "REALITY_API_SECRET": "t1", "ADMIN_API_KEY": "t2"}
    complete = {k: "x" for k in objects.APP_SECRET_KEYS}
    assert not [i for i in build(parse(), secret=complete) if i["kind"] == "Secret"]


def test_extra_env_replaces_operator_env_of_the_same_name() -> None:
    items = build(
        parse(
            backend={
                "extraEnv": [
                    {"name": "NATS_URL", "value": "nats://x:1"},
                    {"name": "FEATURE", "value": "on"},
                ]
            }
        )
    )
    main = container(find(items, "Deployment", "market-backend"))
    names = [e["name"] for e in main["env"]]
    assert names.count("NATS_URL") == 1
    assert env(main)["NATS_URL"] == "nats://x:1" and env(main)["FEATURE"] == "on"


def test_settings_changes_roll_the_pods_through_the_config_hash() -> None:
    def digest(spec: specs.MarketSpec) -> str:
        item = find(build(spec), "Deployment", "market-backend")
        return str(
            item["spec"]["template"]["metadata"]["annotations"][naming.ANNOTATION_CONFIG_HASH]
        )

    assert digest(parse()) == digest(parse())
    assert digest(parse()) != digest(parse(nats={"url": "nats://other:4222"}))


def test_reality_sources_and_llm_settings() -> None:
    items = build(
        parse(
            reality={
                "sources": "sources: []\n",
                "llm": {
                    "baseUrl": "http://llm:8080/v1",
                    "model": "tiny",
                    "apiKeySecretRef": {"name": "llm"},
                },
            }
        )
    )
    settings = find(items, "ConfigMap", "market-settings")["data"]
    assert settings["sources.yaml"] == "sources: []\n"
    assert settings["LLM_BASE_URL"] == "http://llm:8080/v1"
    reality = find(items, "Deployment", "market-reality")
    values = env(container(reality))
    assert values["LLM_API_KEY"] == {"secretKeyRef": {"name": "llm", "key": "LLM_API_KEY"}}
    volumes = reality["spec"]["template"]["spec"]["volumes"]
    (volume,) = [v for v in volumes if v["name"] == "sources"]
    assert volume["configMap"]["name"] == "market-settings"


def test_pod_disruption_budgets_only_where_more_than_one_pod() -> None:
    items = build(parse(backend={"replicas": 1}))
    assert not [i for i in items if i["kind"] == "PodDisruptionBudget"]
    items = build(parse(backend={"replicas": 2}))
    (pdb,) = [i for i in items if i["kind"] == "PodDisruptionBudget"]
    assert pdb["spec"]["maxUnavailable"] == 1


def test_nothing_that_runs_code_exists_before_the_first_migration() -> None:
    kinds = {i["kind"] for i in build(parse(), version=None)}
    assert kinds == {"ServiceAccount", "Secret", "ConfigMap", "Service"}


def test_long_market_names_still_fit() -> None:
    market = naming.MarketRef("m" * 80, "shop", "uid", 1)
    assert len(naming.component(market, "orderbook")) <= 52
    assert naming.component(market, "orderbook") != naming.component(market, "backend")
    assert len(naming.job(market, "migrate", 12345, "1.0.0")) <= 63

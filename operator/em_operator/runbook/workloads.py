"""The three workloads: backend and reality Deployments, the orderbook StatefulSet.

The orderbook is a StatefulSet because a shard is an identity, not a replica:
pod ordinal N serves shard N of `ORDERBOOK_SHARD_COUNT`, and the backend dials
each shard by its stable DNS name through the headless Service.
"""

from __future__ import annotations

from typing import Any

from em_operator.runbook import naming, objects, pods, specs

Manifest = dict[str, Any]

POD_INDEX_LABEL = "metadata.labels['apps.kubernetes.io/pod-index']"


def _annotations(market: naming.MarketRef, spec: specs.MarketSpec) -> dict[str, str]:
    return {naming.ANNOTATION_CONFIG_HASH: objects.config_hash(market, spec)}


def _common_env(market: naming.MarketRef, spec: specs.MarketSpec) -> list[Manifest]:
    return [
        pods.database_env(spec),
        pods.config_env(market, "NATS_URL"),
        pods.config_env(market, "EM_MARKET"),
        pods.config_env(market, "LOG_FORMAT"),
    ]


def backend(market: naming.MarketRef, spec: specs.MarketSpec, version: str) -> Manifest:
    env = [
        *_common_env(market, spec),
        *pods.app_secret_env(market, *objects.APP_SECRET_KEYS),
        pods.config_env(market, "ORDERBOOK_ADDR"),
        pods.config_env(market, "ORDERBOOK_ADDRS"),
        pods.config_env(market, "ORDERBOOK_SHARD_COUNT"),
        pods.config_env(market, "MAINTENANCE_MODE", control=True),
    ]
    main = pods.container(
        "backend",
        spec,
        version,
        ["backend"],
        pods.merge_env(env, spec.backend.extra_env),
        spec.backend.resources,
    )
    main["ports"] = [{"name": "http", "containerPort": naming.BACKEND_PORT}]
    main["readinessProbe"] = pods.http_probe("/health", naming.BACKEND_PORT)
    main["livenessProbe"] = pods.http_probe("/health", naming.BACKEND_PORT, period=20)
    main["startupProbe"] = pods.http_probe("/health", naming.BACKEND_PORT, period=5, failures=30)
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    return _deployment(market, spec, "backend", version, spec.backend.replicas, main, strategy)


def reality(market: naming.MarketRef, spec: specs.MarketSpec, version: str) -> Manifest:
    value = spec.reality
    env = [
        *_common_env(market, spec),
        *pods.app_secret_env(market, "REALITY_API_SECRET"),
        *(pods.config_env(market, key) for key in ("POLL_INTERVAL", "LLM_CALLS_PER_HOUR")),
    ]
    env += [
        pods.config_env(market, key)
        for key in ("LLM_BASE_URL", "LLM_MODEL")
        if key in objects.settings(market, spec)
    ]
    if value.llm.api_key is not None:
        env.append(pods.secret_env("LLM_API_KEY", value.llm.api_key))
    volumes: list[Manifest] = []
    source = value.sources_config_map
    if source is None and value.sources:
        source = specs.SecretKeyRef(naming.config_map(market), "sources.yaml")
    main = pods.container(
        "reality",
        spec,
        version,
        ["reality"],
        pods.merge_env(env, value.component.extra_env),
        value.component.resources,
    )
    if source is not None:
        env_file = pods.config_env(market, "SOURCES_FILE")
        main["env"] = pods.merge_env([env_file], main["env"])
        volumes.append(
            {
                "name": "sources",
                "configMap": {
                    "name": source.name,
                    "items": [{"key": source.key, "path": "sources.yaml"}],
                },
            }
        )
        main["volumeMounts"].append(
            {"name": "sources", "mountPath": objects.SOURCES_DIR, "readOnly": True}
        )
    # Chromium (rendering JavaScript-only pages) needs a writable, roomy /dev/shm.
    volumes.append({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}})
    main["volumeMounts"].append({"name": "shm", "mountPath": "/dev/shm"})  # noqa: S108
    main["ports"] = [{"name": "http", "containerPort": naming.REALITY_PORT}]
    main["readinessProbe"] = pods.http_probe("/health", naming.REALITY_PORT)
    main["livenessProbe"] = pods.http_probe("/health", naming.REALITY_PORT, period=20)
    # Recreate: two engines at once would each spend the hourly LLM budget.
    return _deployment(
        market,
        spec,
        "reality",
        version,
        value.component.replicas,
        main,
        {"type": "Recreate"},
        volumes,
    )


def _deployment(
    market: naming.MarketRef,
    spec: specs.MarketSpec,
    name: str,
    version: str,
    replicas: int,
    main: Manifest,
    strategy: Manifest,
    volumes: list[Manifest] | None = None,
) -> Manifest:
    pod = pods.pod_spec(market, spec, [main], volumes or [])
    body = {
        "replicas": replicas,
        "revisionHistoryLimit": 3,
        "progressDeadlineSeconds": spec.rollback.progress_deadline_seconds,
        "selector": {"matchLabels": naming.selector(market, name)},
        "strategy": strategy,
        "template": pods.template(market, name, version, pod, _annotations(market, spec)),
    }
    meta = naming.metadata(market, naming.component(market, name), name, version)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": body}


def orderbook(market: naming.MarketRef, spec: specs.MarketSpec, version: str) -> Manifest:
    value = spec.orderbook
    env = [
        *_common_env(market, spec),
        pods.config_env(market, "ORDERBOOK_SHARD_COUNT"),
        pods.field_env("ORDERBOOK_SHARD_INDEX", POD_INDEX_LABEL),
        pods.field_env("POD_NAME", "metadata.name"),
    ]
    main = pods.container(
        "orderbook",
        spec,
        version,
        ["orderbook"],
        pods.merge_env(env, value.extra_env),
        value.resources,
    )
    main["ports"] = [
        {"name": "grpc", "containerPort": naming.ORDERBOOK_GRPC_PORT},
        {"name": "http", "containerPort": naming.ORDERBOOK_HTTP_PORT},
    ]
    main["readinessProbe"] = pods.grpc_probe(naming.ORDERBOOK_GRPC_PORT)
    main["livenessProbe"] = pods.http_probe("/", naming.ORDERBOOK_HTTP_PORT, period=20)
    pod = pods.pod_spec(market, spec, [main])
    body = {
        "replicas": value.replicas,
        "serviceName": naming.component(market, "orderbook"),
        # Shards are independent: start and replace them all at once.
        "podManagementPolicy": "Parallel",
        "revisionHistoryLimit": 3,
        "updateStrategy": {"type": "RollingUpdate"},
        "selector": {"matchLabels": naming.selector(market, "orderbook")},
        "template": pods.template(market, "orderbook", version, pod, _annotations(market, spec)),
    }
    meta = naming.metadata(market, naming.component(market, "orderbook"), "orderbook", version)
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta, "spec": body}

"""The long-lived objects a market owns, one builder per object.

Each builder is a pure function of the spec, the market's identity and the
version to serve. That version is passed in, not read from `spec.version`:
during an upgrade the old version keeps serving until its migration succeeded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from em_operator.runbook import naming, specs

Manifest = dict[str, Any]

APP_SECRET_KEYS = ("REALITY_API_SECRET", "ADMIN_API_KEY", "JWT_SECRET")
SOURCES_DIR = "/etc/em/sources"


def _object(api_version: str, kind: str, meta: Manifest, **body: Any) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **body}


def settings(market: naming.MarketRef, spec: specs.MarketSpec) -> dict[str, str]:
    """The non-secret settings, as the services read them from the environment."""
    addresses = naming.orderbook_addresses(market, spec.orderbook.replicas)
    llm = spec.reality.llm
    data = {
        "EM_MARKET": market.name,
        "LOG_FORMAT": "json",
        "NATS_URL": spec.nats_url,
        "ORDERBOOK_ADDR": addresses[0],
        "ORDERBOOK_ADDRS": ",".join(addresses),
        "ORDERBOOK_SHARD_COUNT": str(spec.orderbook.replicas),
        "POLL_INTERVAL": str(spec.reality.poll_interval_seconds),
        "LLM_CALLS_PER_HOUR": str(llm.calls_per_hour),
    }
    if llm.base_url:
        data["LLM_BASE_URL"] = llm.base_url
    if llm.model:
        data["LLM_MODEL"] = llm.model
    if spec.reality.sources_config_map or spec.reality.sources:
        data["SOURCES_FILE"] = f"{SOURCES_DIR}/sources.yaml"
    return data


def config_map(market: naming.MarketRef, spec: specs.MarketSpec) -> Manifest:
    data = settings(market, spec)
    if spec.reality.sources and not spec.reality.sources_config_map:
        data["sources.yaml"] = spec.reality.sources
    meta = naming.metadata(market, naming.config_map(market), "settings")
    return _object("v1", "ConfigMap", meta, data=data)


def config_hash(market: naming.MarketRef, spec: specs.MarketSpec) -> str:
    """Changes of settings roll the pods; env from a ConfigMap is read only at start."""
    data = config_map(market, spec)["data"]
    return naming.short_hash(
        json.dumps(data, sort_keys=True), spec.reality.sources_config_map, length=16
    )


def control_map(market: naming.MarketRef, maintenance: Mapping[str, Any]) -> Manifest:
    """Live switches read at start; running pods follow the `em-control` KV instead.

    Kept apart from the settings so that toggling maintenance restarts nothing.
    """
    data = {
        "MAINTENANCE_MODE": "true" if maintenance.get("enabled") else "false",
        "maintenance.json": json.dumps(dict(maintenance), sort_keys=True),
    }
    meta = naming.metadata(market, naming.control_map(market), "control")
    return _object("v1", "ConfigMap", meta, data=data)


def app_secret(
    market: naming.MarketRef,
    existing: Mapping[str, str] | None,
    token: Callable[[], str],
) -> Manifest:
    """The app's shared secrets, keeping every value that exists and generating the rest."""
    values = dict(existing or {})
    for key in APP_SECRET_KEYS:
        if not values.get(key):
            values[key] = token()
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in sorted(values.items())}
    meta = naming.metadata(market, naming.app_secret(market), "secrets")
    return _object("v1", "Secret", meta, type="Opaque", data=encoded)


def service_account(market: naming.MarketRef) -> Manifest:
    meta = naming.metadata(market, naming.service_account(market), "workload")
    return _object("v1", "ServiceAccount", meta, automountServiceAccountToken=False)


def _service(
    market: naming.MarketRef, name: str, ports: list[Manifest], headless: bool = False
) -> Manifest:
    body: Manifest = {"selector": naming.selector(market, name), "ports": ports}
    if headless:
        body["clusterIP"] = "None"
    meta = naming.metadata(market, naming.component(market, name), name)
    return _object("v1", "Service", meta, spec=body)


def _port(name: str, port: int, protocol: str = "TCP") -> Manifest:
    return {"name": name, "port": port, "targetPort": port, "protocol": protocol}


def services(market: naming.MarketRef) -> list[Manifest]:
    return [
        _service(market, "backend", [_port("http", naming.BACKEND_PORT)]),
        _service(
            market,
            "orderbook",
            [_port("grpc", naming.ORDERBOOK_GRPC_PORT), _port("http", naming.ORDERBOOK_HTTP_PORT)],
            headless=True,
        ),
        _service(market, "reality", [_port("http", naming.REALITY_PORT)]),
    ]


def ingress(market: naming.MarketRef, spec: specs.MarketSpec) -> Manifest | None:
    value = spec.ingress
    if not value.enabled or value.host is None:
        return None
    backend = {
        "service": {
            "name": naming.component(market, "backend"),
            "port": {"number": naming.BACKEND_PORT},
        }
    }
    body: Manifest = {
        "rules": [
            {
                "host": value.host,
                "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
            }
        ],
    }
    if value.class_name:
        body["ingressClassName"] = value.class_name
    if value.tls_secret_name:
        body["tls"] = [{"hosts": [value.host], "secretName": value.tls_secret_name}]
    meta = naming.metadata(
        market, naming.component(market, "backend"), "backend", annotations=dict(value.annotations)
    )
    return _object("networking.k8s.io/v1", "Ingress", meta, spec=body)


def pod_disruption_budgets(market: naming.MarketRef, spec: specs.MarketSpec) -> list[Manifest]:
    """One voluntary eviction at a time, where a component has more than one pod.

    The reality engine is a singleton and gets none: a budget on one pod would
    block every node drain.
    """
    result = []
    for name, replicas in (
        ("backend", spec.backend.replicas),
        ("orderbook", spec.orderbook.replicas),
    ):
        if replicas < 2:
            continue
        meta = naming.metadata(market, naming.component(market, name), name)
        body = {"maxUnavailable": 1, "selector": {"matchLabels": naming.selector(market, name)}}
        result.append(_object("policy/v1", "PodDisruptionBudget", meta, spec=body))
    return result

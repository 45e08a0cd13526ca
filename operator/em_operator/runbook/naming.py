"""Names, labels and owner references of everything a market owns.

Names are pure functions of the market's name (and, for Jobs, of the revision
and a short hash), so a restarted operator computes the same names and finds
the objects it already made instead of creating twins.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

GROUP = "everythingmarket.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "EverythingMarket"
PLURAL = "everythingmarkets"
FIELD_MANAGER = "em-operator"
APP_NAME = "everything-market"

COMPONENTS = ("backend", "orderbook", "reality")
BACKEND_PORT = 8000
ORDERBOOK_GRPC_PORT = 50051
ORDERBOOK_HTTP_PORT = 8001
REALITY_PORT = 8002

# Labels that select pods must never change after creation: keep them minimal.
LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_VERSION = "app.kubernetes.io/version"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_REVISION = f"{GROUP}/revision"
ANNOTATION_CONFIG_HASH = f"{GROUP}/config-hash"

MAX_NAME = 63


@dataclass(frozen=True)
class MarketRef:
    """Identity of one EverythingMarket object, as the planners need it."""

    name: str
    namespace: str
    uid: str
    generation: int = 1


def short_hash(*parts: object, length: int = 8) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:length]


def _fit(base: str, suffix: str, limit: int = MAX_NAME) -> str:
    """`base-suffix` cut to `limit`; a cut base gets a hash so names stay unique."""
    name = f"{base}-{suffix}" if suffix else base
    if len(name) <= limit:
        return name
    room = limit - len(suffix) - 10
    return f"{base[:room].rstrip('-')}-{short_hash(base)}-{suffix}".rstrip("-")


def component(market: MarketRef, name: str) -> str:
    # 52, not 63: a StatefulSet's pods carry a `controller-revision-hash` label of
    # `<name>-<10 chars>`, which must itself fit in 63.
    return _fit(market.name, name, 52)


def config_map(market: MarketRef) -> str:
    return _fit(market.name, "settings")


def control_map(market: MarketRef) -> str:
    return _fit(market.name, "control")


def app_secret(market: MarketRef) -> str:
    return _fit(market.name, "app")


def service_account(market: MarketRef) -> str:
    return _fit(market.name, "")


def job(market: MarketRef, action: str, revision: int, *identity: object) -> str:
    """`<market>-<action>-r<revision>-<hash>`; the hash covers what makes the Job unique."""
    digest = short_hash(market.uid, action, revision, *identity)
    return _fit(market.name, f"{action}-r{revision}-{digest}")


def selector(market: MarketRef, component_name: str) -> dict[str, str]:
    return {
        LABEL_NAME: APP_NAME,
        LABEL_INSTANCE: market.name[:MAX_NAME],
        LABEL_COMPONENT: component_name,
    }


def labels(market: MarketRef, component_name: str, version: str | None = None) -> dict[str, str]:
    result = {
        **selector(market, component_name),
        LABEL_MANAGED_BY: FIELD_MANAGER,
        LABEL_PART_OF: APP_NAME,
    }
    if version is not None:
        result[LABEL_VERSION] = version[:MAX_NAME]
    return result


def owner_reference(market: MarketRef) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": market.name,
        "uid": market.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def metadata(
    market: MarketRef,
    name: str,
    component_name: str,
    version: str | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": market.namespace,
        "labels": labels(market, component_name, version),
        "ownerReferences": [owner_reference(market)],
    }
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def orderbook_addresses(market: MarketRef, shards: int) -> list[str]:
    """Stable per-shard gRPC addresses through the StatefulSet's headless Service."""
    service = component(market, "orderbook")
    return [
        f"{service}-{index}.{service}.{market.namespace}.svc:{ORDERBOOK_GRPC_PORT}"
        for index in range(shards)
    ]

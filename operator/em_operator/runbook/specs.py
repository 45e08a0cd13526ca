"""The EverythingMarket spec as typed, defaulted values.

The API server already applies the CRD's defaults; the planners apply the same
ones again so that they can be called with a hand-written spec (tests, `em`
tooling) and so that a CR stored before a default was added still plans the
same way. `tests/unit/operator/test_crd_schema.py` fails when the two drift.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from em_operator import errors

DEFAULT_REPOSITORY = "ghcr.io/everything-market/em"
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DURATION_PATTERN = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")

DEFAULT_REQUESTS: Mapping[str, Mapping[str, str]] = {
    "backend": {"cpu": "100m", "memory": "256Mi"},
    "orderbook": {"cpu": "100m", "memory": "256Mi"},
    "reality": {"cpu": "100m", "memory": "512Mi"},
}


@dataclass(frozen=True)
class SecretKeyRef:
    name: str
    key: str


@dataclass(frozen=True)
class Resources:
    requests: Mapping[str, str | int]
    limits: Mapping[str, str | int]


@dataclass(frozen=True)
class Component:
    replicas: int
    resources: Resources
    extra_env: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Image:
    repository: str = DEFAULT_REPOSITORY
    pull_policy: str = "IfNotPresent"
    pull_secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Llm:
    base_url: str | None
    model: str | None
    api_key: SecretKeyRef | None
    calls_per_hour: int


@dataclass(frozen=True)
class Reality:
    component: Component
    poll_interval_seconds: int
    llm: Llm
    sources_config_map: SecretKeyRef | None
    sources: str | None


@dataclass(frozen=True)
class Ingress:
    enabled: bool = False
    host: str | None = None
    class_name: str | None = None
    tls_secret_name: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RollbackPolicy:
    automatic: bool = True
    progress_deadline_seconds: int = 600
    smoke_test: bool = True
    to_revision: int | None = None
    allow_data_loss: bool = False
    history_limit: int = 10


@dataclass(frozen=True)
class Maintenance:
    enabled: bool = False
    message: str = ""
    until: str | None = None


@dataclass(frozen=True)
class MarketSpec:
    version: str
    image: Image
    backend: Component
    orderbook: Component  # replicas == shard count: one StatefulSet ordinal per shard
    reality: Reality
    database: SecretKeyRef
    nats_url: str
    ingress: Ingress
    rollback: RollbackPolicy
    maintenance: Maintenance

    def image_for(self, version: str) -> str:
        return f"{self.image.repository}:{version}"


def _obj(raw: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise errors.InvalidSpec(f"{path}.{key}", "must be an object")
    return value


def _int(raw: Mapping[str, Any], key: str, path: str, default: int, lo: int, hi: int) -> int:
    value = raw.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise errors.InvalidSpec(f"{path}.{key}", f"must be an integer from {lo} to {hi}")
    return value


def _str(raw: Mapping[str, Any], key: str, path: str, default: str | None) -> str | None:
    value = raw.get(key, default)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise errors.InvalidSpec(f"{path}.{key}", "must be a string")
    return value


def _bool(raw: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
    value = raw.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise errors.InvalidSpec(f"{path}.{key}", "must be true or false")
    return value


def _key_ref(raw: Mapping[str, Any], path: str, default_key: str) -> SecretKeyRef | None:
    if not raw:
        return None
    name = _str(raw, "name", path, None)
    if name is None:
        raise errors.InvalidSpec(f"{path}.name", "is required")
    return SecretKeyRef(name=name, key=_str(raw, "key", path, default_key) or default_key)


def parse_duration(text: str, path: str) -> int:
    """Seconds in a Go-style duration limited to h/m/s (`90s`, `5m`, `1h30m`)."""
    match = DURATION_PATTERN.match(text)
    if not text or match is None:
        raise errors.InvalidSpec(path, f"{text!r} is not a duration such as 30s, 5m or 1h")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total < 1:
        raise errors.InvalidSpec(path, "must be at least 1s")
    return total


def _resources(raw: Mapping[str, Any], path: str, name: str) -> Resources:
    requests = dict(_obj(raw, "requests", path))
    for resource, quantity in DEFAULT_REQUESTS[name].items():
        requests.setdefault(resource, quantity)
    return Resources(requests=requests, limits=dict(_obj(raw, "limits", path)))


def _extra_env(raw: Mapping[str, Any], path: str) -> tuple[Mapping[str, Any], ...]:
    value = raw.get("extraEnv") or []
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise errors.InvalidSpec(f"{path}.extraEnv", "must be a list of env vars")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise errors.InvalidSpec(f"{path}.extraEnv[{index}]", "needs a name")
    return tuple(dict(item) for item in value)


def _component(raw: Mapping[str, Any], name: str, default_replicas: int, hi: int) -> Component:
    path = f"spec.{name}"
    return Component(
        replicas=_int(raw, "replicas", path, default_replicas, 0, hi),
        resources=_resources(_obj(raw, "resources", path), f"{path}.resources", name),
        extra_env=_extra_env(raw, path),
    )


def _reality(raw: Mapping[str, Any]) -> Reality:
    path = "spec.reality"
    llm = _obj(raw, "llm", path)
    interval = _str(raw, "pollInterval", path, "5m") or "5m"
    return Reality(
        component=_component(raw, "reality", 1, 1),
        poll_interval_seconds=parse_duration(interval, f"{path}.pollInterval"),
        llm=Llm(
            base_url=_str(llm, "baseUrl", f"{path}.llm", None),
            model=_str(llm, "model", f"{path}.llm", None),
            api_key=_key_ref(
                _obj(llm, "apiKeySecretRef", f"{path}.llm"),
                f"{path}.llm.apiKeySecretRef",
                "LLM_API_KEY",
            ),
            calls_per_hour=_int(llm, "callsPerHour", f"{path}.llm", 10, 0, 10_000),
        ),
        sources_config_map=_key_ref(
            _obj(raw, "sourcesConfigMap", path), f"{path}.sourcesConfigMap", "sources.yaml"
        ),
        sources=_str(raw, "sources", path, None),
    )


def _image(raw: Mapping[str, Any]) -> Image:
    path = "spec.image"
    policy = _str(raw, "pullPolicy", path, "IfNotPresent") or "IfNotPresent"
    if policy not in PULL_POLICIES:
        raise errors.InvalidSpec(f"{path}.pullPolicy", f"must be one of {', '.join(PULL_POLICIES)}")
    secrets = raw.get("pullSecrets") or []
    if not isinstance(secrets, Sequence) or not all(isinstance(s, str) for s in secrets):
        raise errors.InvalidSpec(f"{path}.pullSecrets", "must be a list of Secret names")
    return Image(
        repository=_str(raw, "repository", path, DEFAULT_REPOSITORY) or DEFAULT_REPOSITORY,
        pull_policy=policy,
        pull_secrets=tuple(secrets),
    )


def _ingress(raw: Mapping[str, Any]) -> Ingress:
    path = "spec.ingress"
    enabled = _bool(raw, "enabled", path, False)
    host = _str(raw, "host", path, None)
    if enabled and host is None:
        raise errors.InvalidSpec(f"{path}.host", "is required when the ingress is enabled")
    annotations = _obj(raw, "annotations", path)
    return Ingress(
        enabled=enabled,
        host=host,
        class_name=_str(raw, "className", path, None),
        tls_secret_name=_str(raw, "tlsSecretName", path, None),
        annotations={str(k): str(v) for k, v in annotations.items()},
    )


def _rollback(raw: Mapping[str, Any]) -> RollbackPolicy:
    path = "spec.rollback"
    to_revision = raw.get("toRevision")
    if to_revision is not None and (
        isinstance(to_revision, bool) or not isinstance(to_revision, int) or to_revision < 1
    ):
        raise errors.InvalidSpec(f"{path}.toRevision", "must be a revision number (1 or more)")
    return RollbackPolicy(
        automatic=_bool(raw, "automatic", path, True),
        progress_deadline_seconds=_int(raw, "progressDeadlineSeconds", path, 600, 10, 86_400),
        smoke_test=_bool(raw, "smokeTest", path, True),
        to_revision=to_revision,
        allow_data_loss=_bool(raw, "allowDataLoss", path, False),
        history_limit=_int(raw, "historyLimit", path, 10, 1, 100),
    )


def parse(raw: Mapping[str, Any]) -> MarketSpec:
    """Validate and default a raw `spec`; raises `errors.InvalidSpec` naming the field."""
    version = raw.get("version")
    if not isinstance(version, str) or not VERSION_PATTERN.match(version):
        raise errors.InvalidSpec("spec.version", "must be an image tag such as 1.4.0")
    database = _key_ref(
        _obj(raw, "database", "spec").get("secretRef") or {},
        "spec.database.secretRef",
        "DATABASE_URL",
    )
    if database is None:
        raise errors.InvalidSpec("spec.database.secretRef", "is required", "DatabaseSecretMissing")
    orderbook = _obj(raw, "orderbook", "spec")
    shards = _int(orderbook, "shards", "spec.orderbook", 1, 1, 64)
    maintenance = _obj(raw, "maintenance", "spec")
    return MarketSpec(
        version=version,
        image=_image(_obj(raw, "image", "spec")),
        backend=_component(_obj(raw, "backend", "spec"), "backend", 2, 100),
        orderbook=_component({**orderbook, "replicas": shards}, "orderbook", 1, 64),
        reality=_reality(_obj(raw, "reality", "spec")),
        database=database,
        nats_url=_str(_obj(raw, "nats", "spec"), "url", "spec.nats", "nats://nats:4222")
        or "nats://nats:4222",
        ingress=_ingress(_obj(raw, "ingress", "spec")),
        rollback=_rollback(_obj(raw, "rollback", "spec")),
        maintenance=Maintenance(
            enabled=_bool(maintenance, "enabled", "spec.maintenance", False),
            message=_str(maintenance, "message", "spec.maintenance", "") or "",
            until=_str(maintenance, "until", "spec.maintenance", None),
        ),
    )

"""Pod templates shared by the workloads and the Jobs.

Every pod runs as a non-root user with a read-only root filesystem and no
Kubernetes API token (none of the services talks to the API); settings reach it
as env vars referencing the market's ConfigMap and Secrets, never as literals,
so `kubectl get pod -o yaml` shows no secret values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from em_operator.runbook import naming, specs

Manifest = dict[str, Any]

RUN_AS = 10001
TMP_VOLUME = {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}
TMP_MOUNT = {"name": "tmp", "mountPath": "/tmp"}  # noqa: S108  (an emptyDir in the pod)
HOME_ENV = {"name": "HOME", "value": "/tmp"}  # noqa: S108  (the image user has no home)

POD_SECURITY: Mapping[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "fsGroup": RUN_AS,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY: Mapping[str, Any] = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}


def secret_env(name: str, secret: specs.SecretKeyRef, optional: bool = False) -> Manifest:
    ref: Manifest = {"name": secret.name, "key": secret.key}
    if optional:
        ref["optional"] = True
    return {"name": name, "valueFrom": {"secretKeyRef": ref}}


def config_env(market: naming.MarketRef, key: str, control: bool = False) -> Manifest:
    source = naming.control_map(market) if control else naming.config_map(market)
    return {"name": key, "valueFrom": {"configMapKeyRef": {"name": source, "key": key}}}


def field_env(name: str, path: str) -> Manifest:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def app_secret_env(market: naming.MarketRef, *keys: str) -> list[Manifest]:
    secret = naming.app_secret(market)
    return [secret_env(key, specs.SecretKeyRef(secret, key)) for key in keys]


def database_env(spec: specs.MarketSpec) -> Manifest:
    return secret_env("DATABASE_URL", spec.database)


def merge_env(base: Sequence[Manifest], extra: Sequence[Mapping[str, Any]]) -> list[Manifest]:
    """The operator's env with `extraEnv` on top; an extra var replaces one of the same name.

    Server-side apply treats `env` as a map keyed by name, so a duplicate name
    would make the whole apply fail rather than let the later entry win.
    """
    extra_names = {str(item["name"]) for item in extra}
    merged = [dict(item) for item in base if item["name"] not in extra_names]
    merged.extend(dict(item) for item in extra)
    return merged


def resources(value: specs.Resources) -> Manifest:
    result: Manifest = {"requests": dict(value.requests)}
    if value.limits:
        result["limits"] = dict(value.limits)
    return result


def http_probe(path: str, port: int, period: int = 10, failures: int = 3) -> Manifest:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def grpc_probe(port: int, period: int = 10) -> Manifest:
    return {
        "grpc": {"port": port},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }


def container(
    name: str,
    spec: specs.MarketSpec,
    version: str,
    args: Sequence[str],
    env: Sequence[Manifest],
    resources_value: specs.Resources,
) -> Manifest:
    return {
        "name": name,
        "image": spec.image_for(version),
        "imagePullPolicy": spec.image.pull_policy,
        # The image's ENTRYPOINT is `tini -- em`: only the subcommand is given.
        "args": list(args),
        "env": [HOME_ENV, *(dict(item) for item in env)],
        "resources": resources(resources_value),
        "securityContext": dict(CONTAINER_SECURITY),
        "volumeMounts": [dict(TMP_MOUNT)],
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def pod_spec(
    market: naming.MarketRef,
    spec: specs.MarketSpec,
    containers: Sequence[Manifest],
    volumes: Sequence[Manifest] = (),
    restart_policy: str = "Always",
) -> Manifest:
    result: Manifest = {
        "serviceAccountName": naming.service_account(market),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": dict(POD_SECURITY),
        "restartPolicy": restart_policy,
        "terminationGracePeriodSeconds": 30,
        "containers": list(containers),
        "volumes": [dict(TMP_VOLUME), *volumes],
    }
    if spec.image.pull_secrets:
        result["imagePullSecrets"] = [{"name": name} for name in spec.image.pull_secrets]
    return result


def template(
    market: naming.MarketRef,
    component_name: str,
    version: str,
    pod: Manifest,
    annotations: Mapping[str, str],
) -> Manifest:
    return {
        "metadata": {
            "labels": naming.labels(market, component_name, version),
            "annotations": dict(annotations),
        },
        "spec": pod,
    }

"""Writing a plan to the cluster: server-side apply, Job creation, status, Events.

Server-side apply with one field manager means the operator owns exactly the
fields it sets; someone's `kubectl scale` on a field we own is overwritten on
the next reconcile (force), and fields we never set are left alone. Jobs are
only ever created: their spec is immutable, and an existing one is the Job a
previous operator process already started.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, cast

import kopf
from kubernetes.client.exceptions import ApiException

from em_operator import errors
from em_operator.handlers import clients as clients_
from em_operator.runbook import naming, plans

logger = logging.getLogger(__name__)

MAX_EVENT_MESSAGE = 1024


# Every kind a plan contains, with its plural: no API discovery (seconds on a cold start).
PLURALS = {
    "ServiceAccount": "serviceaccounts",
    "Secret": "secrets",
    "ConfigMap": "configmaps",
    "Service": "services",
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "PodDisruptionBudget": "poddisruptionbudgets",
    "Ingress": "ingresses",
    "Job": "jobs",
}


def collection(manifest: Mapping[str, Any]) -> str:
    api_version, kind = str(manifest["apiVersion"]), str(manifest["kind"])
    root = "/api" if "/" not in api_version else "/apis"
    namespace = manifest["metadata"]["namespace"]
    return f"{root}/{api_version}/namespaces/{namespace}/{PLURALS[kind]}"


def apply(api: clients_.Clients, manifest: dict[str, Any]) -> None:
    kind, meta = manifest["kind"], manifest["metadata"]
    try:
        if kind == "Job":
            api.batch.create_namespaced_job(meta["namespace"], cast(Any, manifest))
            logger.info("created job", extra={"job": meta["name"], "namespace": meta["namespace"]})
            return
        server_side_apply(api, f"{collection(manifest)}/{meta['name']}", manifest)
    except ApiException as exc:
        if kind == "Job" and exc.status == 409:
            return  # created by an earlier pass (or an earlier operator process)
        detail = _reason(exc)
        raise errors.ApplyError(f"{kind}/{meta['name']}: {exc.status} {detail}") from exc


def server_side_apply(api: clients_.Clients, path: str, manifest: Mapping[str, Any]) -> None:
    """PATCH with `application/apply-patch+yaml` (JSON is YAML), forcing our field manager."""
    method, url, headers, body, _ = api.api.param_serialize(
        method="PATCH",
        resource_path=path,
        query_params=[("fieldManager", naming.FIELD_MANAGER), ("force", "true")],
        header_params={
            "Content-Type": "application/apply-patch+yaml",
            "Accept": "application/json",
        },
        body=dict(manifest),
        auth_settings=["BearerToken"],
    )
    response = api.api.call_api(method, url, header_params=headers, body=body)
    response.read()  # type: ignore[no-untyped-call]
    if not 200 <= response.status < 300:
        raise ApiException(http_resp=response)


def _reason(exc: ApiException) -> str:
    """The API's own message (the 422 names the field), not just 'Unprocessable Entity'."""
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        return str(exc.reason)
    return str(body.get("message") or exc.reason)


FIRST = frozenset({"ServiceAccount", "Secret", "ConfigMap", "Service"})  # what pods refer to


def stages(manifests: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """What pods refer to, then the workloads and the rest, then the Jobs; the plan's
    order within each. Objects of one stage are independent and applied at once."""
    first = [m for m in manifests if m["kind"] in FIRST]
    jobs = [m for m in manifests if m["kind"] == "Job"]
    rest = [m for m in manifests if m["kind"] not in FIRST and m["kind"] != "Job"]
    return [stage for stage in (first, rest, jobs) if stage]


def apply_all(api: clients_.Clients, plan: plans.Plan) -> None:
    pool = clients_.pool()
    for stage in stages(plan.apply):
        futures = [pool.submit(apply, api, manifest) for manifest in stage]
        for future in futures:
            future.result()  # the first ApplyError, after every apply of the stage ended


def merged(target: Any, patch: Any) -> Any:
    """RFC 7386 merge patch applied to `target` (None deletes), without touching either."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merged(result.get(key), value)
    return result


def patch_status(
    api: clients_.Clients, market: naming.MarketRef, status: Mapping[str, Any]
) -> str | None:
    """Merge-patch `.status` (None deletes a field); the market's new resourceVersion.

    None when the market is gone.
    """
    try:
        result = api.custom.patch_namespaced_custom_object_status(
            naming.GROUP,
            naming.VERSION,
            market.namespace,
            naming.PLURAL,
            market.name,
            {"status": dict(status)},
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return str(cast(dict[str, Any], result)["metadata"]["resourceVersion"])


def post_events(body: Mapping[str, Any], plan: plans.Plan) -> None:
    """Through kopf's queue: posted in the background, retried, never blocking a pass."""
    for event in plan.events:
        kopf.event(
            kopf.Body(cast(Any, dict(body))),
            type=event.type,
            reason=event.reason,
            message=event.message[:MAX_EVENT_MESSAGE],
        )

"""Writing a plan to the cluster: server-side apply, Job creation, Events.

Server-side apply with one field manager means the operator owns exactly the
fields it sets; someone's `kubectl scale` on a field we own is overwritten on
the next reconcile (force), and fields we never set are left alone. Jobs are
only ever created: their spec is immutable, and an existing one is the Job a
previous operator process already started.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from em_operator import errors
from em_operator.handlers import clients as clients_
from em_operator.runbook import naming, plans

logger = logging.getLogger(__name__)


def apply(api: clients_.Clients, manifest: dict[str, Any]) -> None:
    kind, meta = manifest["kind"], manifest["metadata"]
    try:
        resource = api.dynamic.resources.get(api_version=manifest["apiVersion"], kind=kind)
        if kind == "Job":
            resource.create(body=manifest, namespace=meta["namespace"])
            logger.info("created job", extra={"job": meta["name"]})
            return
        resource.server_side_apply(
            body=manifest,
            name=meta["name"],
            namespace=meta["namespace"],
            field_manager=naming.FIELD_MANAGER,
            force_conflicts=True,
        )
    except ApiException as exc:
        if kind == "Job" and exc.status == 409:
            return
        raise errors.ApplyError(f"{kind}/{meta['name']}: {exc.status} {exc.reason}") from exc


def apply_all(api: clients_.Clients, plan: plans.Plan) -> None:
    for manifest in plan.apply:
        apply(api, manifest)


def post_events(body: kopf.Body, plan: plans.Plan) -> None:
    for event in plan.events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message[:1024])

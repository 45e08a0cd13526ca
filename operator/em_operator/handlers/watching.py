"""Watches on what a market owns or reads: any change wakes the market's worker.

This is what makes the operator fast without short timers: a Job finishing, a
Deployment becoming available or passing its progress deadline, someone
deleting or editing an owned object, the database Secret appearing: each is a
watch event, and the worker runs a pass within milliseconds. Owned objects are
selected by the `app.kubernetes.io/managed-by` label and mapped to their market
through the owner reference; Secrets and ConfigMaps also by the references the
worker recorded (`worker.readers`), since the database Secret is not ours.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from em_operator.handlers import reconcile, worker
from em_operator.runbook import naming

logger = logging.getLogger(__name__)

OWNED = {naming.LABEL_MANAGED_BY: naming.FIELD_MANAGER}


def owners(body: kopf.Body) -> set[str]:
    return {
        str(ref.get("uid"))
        for ref in body.metadata.get("ownerReferences") or []
        if ref.get("kind") == naming.KIND
        and str(ref.get("apiVersion", "")).startswith(naming.GROUP)
    }


def _wake(uids: set[str]) -> None:
    for uid in uids:
        worker.poke(uid)


@kopf.on.event("apps", "v1", "deployments", labels=OWNED)
@kopf.on.event("apps", "v1", "statefulsets", labels=OWNED)
@kopf.on.event("batch", "v1", "jobs", labels=OWNED)
@kopf.on.event("v1", "services", labels=OWNED)
@kopf.on.event("v1", "serviceaccounts", labels=OWNED)
@kopf.on.event("policy", "v1", "poddisruptionbudgets", labels=OWNED)
@kopf.on.event("networking.k8s.io", "v1", "ingresses", labels=OWNED)
async def on_owned_event(body: kopf.Body, **_: Any) -> None:
    _wake(owners(body))


@kopf.on.event("v1", "secrets")
async def on_secret_event(body: kopf.Body, **_: Any) -> None:
    namespace, name = str(body.metadata.namespace), str(body.metadata.name)
    _wake(owners(body) | worker.readers(namespace, reconcile.SECRET, name))


@kopf.on.event("v1", "configmaps")
async def on_config_map_event(body: kopf.Body, **_: Any) -> None:
    namespace, name = str(body.metadata.namespace), str(body.metadata.name)
    _wake(owners(body) | worker.readers(namespace, reconcile.CONFIG_MAP, name))

"""One reconcile pass for one market: read it, observe, plan (`runbook.rollout`), apply.

Blocking (the kubernetes client is synchronous); `worker` runs it in a thread.
The market is read fresh at the start of every pass rather than taken from a
watch event, so a pass never plans from a status older than its own last write.
The status written is the record of what this pass did (Jobs created, steps
taken), so it is merge-patched without a resourceVersion precondition: losing
it to a concurrent spec change would forget a Job that now exists.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from kubernetes.client.exceptions import ApiException

from em_operator import errors, metrics
from em_operator.handlers import applying, observing, rollback
from em_operator.handlers import clients as clients_
from em_operator.runbook import naming, plans, prerequisites, rollout, specs

logger = logging.getLogger(__name__)

RESOURCE = (naming.GROUP, naming.VERSION, naming.PLURAL)
SECRET, CONFIG_MAP = "Secret", "ConfigMap"


@dataclass(frozen=True)
class Outcome:
    body: dict[str, Any]  # the market as this pass read it
    plan: plans.Plan
    resource_version: str | None  # of the market after the status patch
    references: frozenset[tuple[str, str]]  # (kind, name) of Secrets/ConfigMaps it reads


def token() -> str:
    return secrets.token_urlsafe(32)


def market_ref(body: dict[str, Any]) -> naming.MarketRef:
    meta = body["metadata"]
    return naming.MarketRef(
        name=str(meta["name"]),
        namespace=str(meta["namespace"]),
        uid=str(meta["uid"]),
        generation=int(meta.get("generation") or 1),
    )


def read_market(api: clients_.Clients, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        found = api.custom.get_namespaced_custom_object(*RESOURCE[:2], namespace, RESOURCE[2], name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return cast(dict[str, Any], found)


def references(spec: specs.MarketSpec | None) -> frozenset[tuple[str, str]]:
    if spec is None:
        return frozenset()
    found = {(SECRET, name) for name in prerequisites.referenced_secrets(spec)}
    found |= {(CONFIG_MAP, name) for name in prerequisites.referenced_config_maps(spec)}
    return frozenset(found)


def reconcile(
    api: clients_.Clients, namespace: str, name: str, now: datetime | None = None
) -> Outcome | None:
    """One pass; None when the market is gone or going. Raises `errors.ApplyError`."""
    body = read_market(api, namespace, name)
    if body is None or body["metadata"].get("deletionTimestamp"):
        return None
    market = market_ref(body)
    spec, status = dict(body.get("spec") or {}), dict(body.get("status") or {})
    try:
        parsed: specs.MarketSpec | None = specs.parse(spec)
    except errors.InvalidSpec:
        parsed = None  # the planner reports it; observe what can be observed
    with metrics.ACTION_SECONDS.labels("observe").time():
        world = observing.observe(api, market, parsed)
    with metrics.ACTION_SECONDS.labels("plan").time():
        plan = rollout.plan(
            rollout.Inputs(
                market=market,
                spec=spec,
                status=status,
                observed=world,
                now=now or datetime.now(UTC),
                token=token,
                catalog=rollback.catalog(),
            )
        )
    try:
        with metrics.ACTION_SECONDS.labels("apply").time():
            applying.apply_all(api, plan)
    except errors.ApplyError:
        metrics.RECONCILIATIONS.labels("error").inc()
        raise
    version: str | None = str(body["metadata"]["resourceVersion"])
    if applying.merged(status, plan.status) != status:  # else the PATCH would change nothing
        with metrics.ACTION_SECONDS.labels("status").time():
            version = applying.patch_status(api, market, plan.status)
        if version is None:
            return None  # deleted while we worked
    blocked = not plan.apply
    metrics.RECONCILIATIONS.labels("blocked" if blocked else "ok").inc()
    metrics.set_phase(market.namespace, market.name, str(plan.status.get("phase")))
    logger.debug(
        "reconciled",
        extra={
            "market": market.name,
            "namespace": market.namespace,
            "phase": plan.status.get("phase"),
            "requeue_after": plan.requeue_after,
        },
    )
    return Outcome(body, plan, version, references(parsed))

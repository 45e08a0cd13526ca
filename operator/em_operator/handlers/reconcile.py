"""The one reconcile loop: observe, plan (`runbook.rollout`), apply, patch status.

Creation, spec changes, operator start-up and a timer all land here; the timer
is what moves a rollout along while Jobs run and pods start. Scaling needs no
handler of its own: replicas are part of the desired objects every pass applies.
Reconciles of one market are serialised (kopf runs timers beside change handlers).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import kopf

from em_operator import errors, metrics
from em_operator.handlers import applying, observing, rollback
from em_operator.handlers import clients as clients_
from em_operator.runbook import naming, plans, rollout, specs

logger = logging.getLogger(__name__)

RESOURCE = (naming.GROUP, naming.VERSION, naming.PLURAL)
RETRY_DELAY = 15.0
TIMER_INTERVAL = 10.0  # how often a rollout in flight is looked at again
_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)


def token() -> str:
    return secrets.token_urlsafe(32)


def market_ref(body: kopf.Body) -> naming.MarketRef:
    meta = body.metadata
    return naming.MarketRef(
        name=str(meta.name),
        namespace=str(meta.namespace),
        uid=str(meta.uid),
        generation=int(meta.get("generation") or 1),
    )


def reconcile(
    body: kopf.Body,
    patch: kopf.Patch,
    api: clients_.Clients | None = None,
    now: datetime | None = None,
) -> plans.Plan:
    """One pass for one market; raises `kopf.TemporaryError` when the API refuses."""
    market = market_ref(body)
    api = api or clients_.get()
    spec, status = dict(body.spec), dict(body.status)
    try:
        parsed: specs.MarketSpec | None = specs.parse(spec)
    except errors.InvalidSpec:
        parsed = None  # the planner reports it; observe what can be observed
    with _locks[market.uid]:
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
        except errors.ApplyError as exc:
            metrics.RECONCILIATIONS.labels("error").inc()
            raise kopf.TemporaryError(str(exc), delay=RETRY_DELAY) from exc
        patch.status.update(plan.status)
        applying.post_events(body, plan)
    blocked = not plan.apply
    metrics.RECONCILIATIONS.labels("blocked" if blocked else "ok").inc()
    metrics.set_phase(market.namespace, market.name, str(plan.status.get("phase")))
    logger.info(
        "reconciled",
        extra={
            "market": market.name,
            "namespace": market.namespace,
            "phase": plan.status.get("phase"),
            "requeue_after": plan.requeue_after,
        },
    )
    return plan


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    # Progress in annotations: the CRD's status schema has no room for kopf's own.
    prefix = naming.GROUP
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=prefix)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=prefix)
    settings.posting.level = logging.INFO


@kopf.on.resume(*RESOURCE)
@kopf.on.create(*RESOURCE)
@kopf.on.update(*RESOURCE, field="spec")
def on_change(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    reconcile(body, patch)


@kopf.timer(*RESOURCE, interval=TIMER_INTERVAL, initial_delay=1.0)
def on_timer(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    reconcile(body, patch)


@kopf.on.delete(*RESOURCE, optional=True)
def on_delete(body: kopf.Body, **_: Any) -> None:
    """Owned objects go with the market (owner references); only metrics remain to drop."""
    market = market_ref(body)
    metrics.forget(market.namespace, market.name)
    _locks.pop(market.uid, None)

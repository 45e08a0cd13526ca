"""One worker per market: reconcile, then sleep until something changes.

A kopf daemon per EverythingMarket runs the passes one after another (so they
never overlap), and sleeps between them until a watch event pokes it (the
market changed, or an object it owns or reads did: see `watching`) or the
plan's `requeue_after` elapses (a step waiting on the clock), or at the latest
the resync interval. kopf stops the daemon when the market is deleted, when
the operator exits, and while peering pauses this operator for another one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

import kopf

from em_operator import metrics, settings
from em_operator.handlers import applying, reconcile
from em_operator.handlers import clients as clients_

logger = logging.getLogger(__name__)

RESOURCE = reconcile.RESOURCE
RECONCILE_FAILED = "ReconcileFailed"

_wakeups: dict[str, asyncio.Event] = {}
_own_versions: dict[str, str] = {}  # market uid -> resourceVersion of our last status write
# (namespace, kind, name) of a Secret/ConfigMap -> uids of the markets that read it
_references: defaultdict[tuple[str, str, str], set[str]] = defaultdict(set)


def poke(uid: str) -> bool:
    """Wake the market's worker (no-op when it has none yet: its first pass is coming)."""
    wake = _wakeups.get(uid)
    if wake is None:
        return False
    wake.set()
    return True


def readers(namespace: str, kind: str, name: str) -> set[str]:
    return set(_references.get((namespace, kind, name), ()))


def _remember(uid: str, namespace: str, outcome: reconcile.Outcome) -> None:
    if outcome.resource_version is not None:
        _own_versions[uid] = outcome.resource_version
    _forget_references(uid)
    for kind, name in outcome.references:
        _references[(namespace, kind, name)].add(uid)


def _forget_references(uid: str) -> None:
    for key in [k for k, uids in _references.items() if uid in uids]:
        _references[key].discard(uid)
        if not _references[key]:
            del _references[key]


async def _sleep(wake: asyncio.Event, stopped: kopf.DaemonStopped, seconds: float) -> bool:
    """Until poked, stopped or `seconds` passed; True when poked."""

    async def until_stopped() -> None:
        await stopped.wait()

    waiters = [asyncio.create_task(wake.wait()), asyncio.create_task(until_stopped())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()
    return wake.is_set()


@kopf.daemon(*RESOURCE, cancellation_backoff=10.0, cancellation_timeout=30.0)
async def run_market(body: kopf.Body, stopped: kopf.DaemonStopped, **_: Any) -> None:
    uid, name, namespace = str(body.metadata.uid), str(body.metadata.name), body.metadata.namespace
    assert namespace is not None  # a namespaced resource
    config = settings.get()
    wake = _wakeups[uid] = asyncio.Event()
    failures = 0
    last_error: str | None = None
    phase: str | None = None
    logger.info("worker started", extra={"market": name, "namespace": namespace})
    try:
        while not stopped:
            wake.clear()
            try:
                outcome = await asyncio.to_thread(
                    reconcile.reconcile, clients_.get(), namespace, name
                )
            except Exception as exc:  # any failure: say so, back off, retry
                failures += 1
                delay = min(config.retry_seconds * 2 ** (failures - 1), config.retry_max_seconds)
                if str(exc) != last_error:  # once per distinct error, not per retry
                    last_error = str(exc)
                    kopf.warn(body, reason=RECONCILE_FAILED, message=f"{exc}"[:1024])
                logger.warning(
                    "reconcile failed; retrying",
                    extra={"market": name, "namespace": namespace, "error": str(exc),
                           "retry_in": delay, "failures": failures},
                )  # fmt: skip
            else:
                failures, last_error = 0, None
                if outcome is None:
                    return  # deleted: kopf stops this daemon too
                _remember(uid, namespace, outcome)
                applying.post_events(outcome.body, outcome.plan)
                new_phase = outcome.plan.status.get("phase")
                if new_phase != phase:
                    logger.info(
                        "market phase",
                        extra={"market": name, "namespace": namespace, "phase": new_phase,
                               "was": phase, "requeue_after": outcome.plan.requeue_after},
                    )  # fmt: skip
                    phase = new_phase
                wait = outcome.plan.requeue_after
                delay = config.resync_seconds if wait is None else min(wait, config.requeue_seconds)
            if await _sleep(wake, stopped, delay) and config.debounce_seconds:
                await asyncio.sleep(config.debounce_seconds)  # coalesce a burst of events
    finally:
        if _wakeups.get(uid) is wake:
            del _wakeups[uid]
        logger.info("worker stopped", extra={"market": name, "namespace": namespace})


@kopf.on.event(*RESOURCE)
async def on_market_event(body: kopf.Body, **_: Any) -> None:
    """Any change of the market but our own status writes wakes its worker."""
    uid = str(body.metadata.uid)
    if body.metadata.get("resourceVersion") == _own_versions.get(uid):
        return
    poke(uid)


@kopf.on.delete(*RESOURCE, optional=True)
async def on_delete(body: kopf.Body, **_: Any) -> None:
    """Owned objects go with the market (owner references); only bookkeeping remains."""
    uid = str(body.metadata.uid)
    metrics.forget(str(body.metadata.namespace), str(body.metadata.name))
    _own_versions.pop(uid, None)
    _forget_references(uid)

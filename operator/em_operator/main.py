"""`em operator`: run the kopf operator with its health and metrics endpoint.

    em operator [--standalone] [-n NAMESPACE ...] [--port N] [--peering NAME] [--priority N]

Flags override the `EM_OPERATOR_*` environment (see `settings`). Without
`--standalone` the operator joins the kopf peering named by `--peering`, so of
several replicas only the one with the highest priority works at a time; the
peering object is created at start-up when missing (the CRDs are in
k8s/crds/kopf-peering.yaml).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import kopf

from em_common import logs
from em_operator import peering, serving, settings
from em_operator.runbook import naming

logger = logging.getLogger(__name__)


@kopf.on.startup()
async def warm_up(**_: Any) -> None:
    """Load the API clients (their modules take seconds to import) and the migration
    graph before the first market arrives, so the first reconcile is as fast as any."""
    from em_operator.handlers import clients, rollback

    await asyncio.to_thread(lambda: (clients.get(), rollback.catalog()))


@kopf.on.startup()
async def start_endpoint(memo: kopf.Memo, **_: Any) -> None:
    memo["endpoint"] = await serving.start(settings.get().port)


@kopf.on.cleanup()
async def stop_endpoint(memo: kopf.Memo, **_: Any) -> None:
    runner = memo.get("endpoint")
    if runner is not None:
        await runner.cleanup()


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    # kopf's own bookkeeping in annotations under our group: the CRD's status
    # schema is strict and has no room for it.
    prefix = naming.GROUP
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=prefix)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=prefix)
    settings.persistence.finalizer = f"{naming.GROUP}/operator"
    settings.posting.level = logging.INFO
    settings.posting.reporting_component = naming.FIELD_MANAGER
    # A worker exits within a few loop cycles of being told to (unless a pass is in
    # flight): wait for that instead of polling again after the cancellation backoff,
    # which would hold a deleted market's finalizer for that long.
    settings.background.instant_exit_timeout = 2.0


class KopfFields(logging.Filter):
    """kopf's per-object records carry its whole settings object: keep a short reference."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = vars(record)
        fields.pop("settings", None)
        fields.pop("k8s_skip", None)
        ref = fields.pop("k8s_ref", None)
        if isinstance(ref, dict):
            record.object = "/".join(
                str(ref[key]) for key in ("kind", "namespace", "name") if ref.get(key)
            )
        return True


def configure_logging(level: str) -> None:
    logs.configure(level, service="operator")
    for handler in logging.getLogger().handlers:
        handler.addFilter(KopfFields())
    if logging.getLogger().level > logging.DEBUG:
        # "Handler 'on_secret_event' succeeded." for every watch event: noise.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # every liveness probe


def parse(argv: Sequence[str]) -> settings.OperatorSettings:
    parser = argparse.ArgumentParser(prog="em operator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--standalone", action="store_true", default=None,
                        help="no peering: assume this is the only operator")  # fmt: skip
    parser.add_argument("-n", "--namespace", action="append", dest="namespaces",
                        help="watch this namespace (repeatable; default: all)")  # fmt: skip
    parser.add_argument("--port", type=int, help="/healthz and /metrics port")
    parser.add_argument("--peering", help="kopf peering name")
    parser.add_argument("--priority", type=int, help="kopf peering priority")
    args = parser.parse_args(list(argv))
    overrides = {key: value for key, value in vars(args).items() if value is not None}
    base = settings.get()
    return base.model_copy(update=overrides)


def run(argv: list[str] | None = None) -> int:
    """`em operator`: blocks until SIGTERM/SIGINT."""
    from em_operator.handlers import registry  # noqa: F401  (registers the handlers)

    config = settings.use(parse(argv or []))
    configure_logging(config.log_level)
    namespaces = list(config.namespaces)
    logger.info(
        "starting",
        extra={
            "namespaces": namespaces or "all",
            "port": config.port,
            "peering": None if config.standalone else config.peering,
        },
    )
    if not config.standalone:
        peering.ensure(config.peering, namespaces)
    asyncio.run(
        kopf.operator(
            clusterwide=not namespaces,
            namespaces=namespaces,
            standalone=config.standalone,
            peering_name=None if config.standalone else config.peering,
            priority=config.priority,
            memo=kopf.Memo(),
        )
    )
    return 0

"""`em operator`: run the kopf operator with its health and metrics endpoint."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf

from em_common import logs
from em_operator import serving, settings

logger = logging.getLogger(__name__)


@kopf.on.startup()
async def start_endpoint(memo: kopf.Memo, **_: Any) -> None:
    memo["endpoint"] = await serving.start(settings.get().port)


@kopf.on.cleanup()
async def stop_endpoint(memo: kopf.Memo, **_: Any) -> None:
    runner = memo.get("endpoint")
    if runner is not None:
        await runner.cleanup()


def run(argv: list[str] | None = None) -> int:
    """`em operator`: blocks until SIGTERM. Settings come from `EM_OPERATOR_*`, not flags."""
    from em_operator.handlers import registry  # noqa: F401  (registers the handlers)

    logs.configure(service="operator")
    if argv:
        logger.warning("ignoring arguments", extra={"argv": argv})
    config = settings.get()
    namespaces = list(config.namespaces)
    logger.info("starting", extra={"namespaces": namespaces or "all", "port": config.port})
    asyncio.run(
        kopf.operator(
            clusterwide=not namespaces,
            namespaces=namespaces,
            peering_name=config.peering,
            memo=kopf.Memo(),
        )
    )
    return 0

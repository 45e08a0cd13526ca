"""`em orderbook`: one shard of the order book, until SIGTERM (then drain and exit 0).

`--role matcher` (the default) serves gRPC and, unless ORDERBOOK_OUTPUTS says otherwise,
runs the outputs follower as a child process; `--role outputs` is that follower alone.
Settings come from the environment (see README). Exit codes: 0 after a clean drain, 1 when
the state cannot be recovered, 2 for invalid settings, 70 when the journal failed or was
taken over by another writer.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence

from em_common import errors as common_errors
from em_common import logs, settings
from em_orderbook import errors, following, outputs_child, serving, sharding
from em_orderbook.settings import OrderbookSettings

logger = logging.getLogger(__name__)


async def _serve(config: OrderbookSettings) -> int:
    loop = asyncio.get_running_loop()
    try:
        async with serving.running(config) as run:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, run.service.request_stop)
            # Start-up garbage (replayed journal, imports) is long-lived: keep it out of
            # every future collection, and collect the young generation less eagerly.
            gc.collect()
            gc.freeze()
            gc.set_threshold(50_000, 20, 100)
            logger.info(
                "orderbook serving",
                extra={"grpc_port": run.grpc_port, "http_port": run.http_port},
            )
            code = await run.service.wait()
            logger.info("orderbook draining", extra={"exit_code": code})
    except errors.RecoveryError as exc:
        logger.critical("cannot recover the order book", extra={"error": str(exc)})
        return 1
    logger.info("orderbook stopped", extra={"exit_code": code})
    return code


async def _follow(config: OrderbookSettings) -> int:
    follower = following.OutputsFollower(config, _shard_index(config))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await follower.start()
        gc.collect()
        gc.freeze()
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(follower.stopped.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
        await follower.drain(config.orderbook_drain_seconds)
    except errors.RecoveryError as exc:
        logger.critical("outputs follower cannot recover", extra={"error": str(exc)})
        return 1
    finally:
        await follower.close()
    return 1 if follower.failed is not None else 0


def _shard_index(config: OrderbookSettings) -> int:
    count = config.orderbook_shard_count
    hostname = config.hostname or socket.gethostname()
    return sharding.resolve_index(config.orderbook_shard_index, count, hostname)


def run(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="em orderbook", description="Run one orderbook shard (settings from the environment)."
    )
    parser.add_argument(
        "--role",
        choices=("matcher", "outputs"),
        default="matcher",
        help="matcher: gRPC and the journal (default); outputs: events and database rows only",
    )
    args = parser.parse_args(list(argv))
    config = settings.load(OrderbookSettings)
    if args.role == "outputs":
        if outputs_child.die_with_parent():
            os.nice(config.orderbook_outputs_nice)
        logs.configure(config.log_level, service="orderbook-outputs")
        return asyncio.run(_follow(config))
    logs.configure(config.log_level, service="orderbook")
    return asyncio.run(_serve(config))


if __name__ == "__main__":
    try:
        sys.exit(run(sys.argv[1:]))
    except common_errors.ConfigError as exc:
        print(f"em orderbook: {exc}", file=sys.stderr)  # noqa: T201
        sys.exit(2)

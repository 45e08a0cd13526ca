"""NATS connection and JetStream topology: the `REALITY` and `MARKET` streams, the control KV.

Every component calls `ensure_topology()` at start; it creates what is missing and leaves
what exists alone, so any start order works and a second call is a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext, api
from nats.js import errors as js_errors
from nats.js.kv import KeyValue

from em_common import contracts

logger = logging.getLogger(__name__)

DUPLICATE_WINDOW_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_seconds: float


STREAMS = (
    StreamSpec("REALITY", (contracts.REALITY_SUBJECT,), "Signed reality events", 30 * 24 * 3600.0),
    StreamSpec(
        "MARKET",
        ("market.*.trades", "market.*.book"),
        "Trades and book changes from the orderbook",
        7 * 24 * 3600.0,
    ),
)


async def connect(
    url: str,
    *,
    name: str,
    on_disconnect: Callable[[], Awaitable[None]] | None = None,
    connect_timeout: float = 5.0,
) -> Client:
    """Connect with endless reconnects: a NATS restart must never need a process restart."""

    client: Client | None = None

    async def _error(exc: Exception) -> None:
        logger.warning("nats error", extra={"error": repr(exc)})

    async def _disconnected() -> None:
        # Reconnects never give up, so a closed client here is our own close or drain: a
        # clean shutdown, not a lost connection worth a warning.
        if client is not None and client.is_closed:
            logger.info("nats connection closed", extra={"client": name})
        else:
            logger.warning("nats disconnected", extra={"client": name})
        if on_disconnect is not None:
            await on_disconnect()

    client = await nats.connect(
        servers=[url],
        name=name,
        connect_timeout=connect_timeout,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        allow_reconnect=True,
        error_cb=_error,
        disconnected_cb=_disconnected,
    )
    return client


async def ensure_streams(js: JetStreamContext) -> None:
    for spec in STREAMS:
        config = api.StreamConfig(
            name=spec.name,
            description=spec.description,
            subjects=list(spec.subjects),
            storage=api.StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            max_age=spec.max_age_seconds,
        )
        try:
            info = await js.stream_info(spec.name)
        except js_errors.NotFoundError:
            await js.add_stream(config)
            logger.info("created stream", extra={"stream": spec.name})
            continue
        if sorted(info.config.subjects or []) != sorted(spec.subjects):
            await js.update_stream(config)
            logger.info("updated stream subjects", extra={"stream": spec.name})


async def ensure_control_kv(js: JetStreamContext) -> KeyValue:
    try:
        return await js.key_value(contracts.CONTROL_BUCKET)
    except js_errors.BucketNotFoundError:
        return await js.create_key_value(
            api.KeyValueConfig(
                bucket=contracts.CONTROL_BUCKET,
                description="Live runtime switches written by the operator",
                history=5,
                storage=api.StorageType.FILE,
            )
        )


async def ensure_topology(js: JetStreamContext) -> KeyValue:
    """Create the streams and the control bucket when missing; return the bucket."""
    await ensure_streams(js)
    return await ensure_control_kv(js)

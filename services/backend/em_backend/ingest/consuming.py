"""JetStream handlers: reality events into the ingest path, trades into repricing.

Both return normally for messages refused for good (acked and counted); they raise only
for transient failures (database down), which makes the consumer redeliver later.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pydantic
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from em_backend import scoring
from em_backend.ingest import pipeline
from em_backend.ingest.pipeline import Ingestor
from em_backend.metrics import Metrics
from em_backend.pricing import Pricing
from em_backend.streams import BatchHandler, Handler
from em_common import contracts

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature"


def signature_of(msg: Msg) -> str | None:
    headers = msg.headers or {}
    for key, value in headers.items():
        if key.lower() == SIGNATURE_HEADER.lower():
            return value
    return None


def reality_handler(ingestor: Ingestor) -> BatchHandler:
    """A fetched batch in one transaction; refusals are counted and logged by the ingestor
    and acked with the rest, so they are never redelivered."""

    async def handle(batch: list[Msg]) -> None:
        await ingestor.ingest_many(
            [
                pipeline.Incoming(
                    body=msg.data,
                    signature=signature_of(msg),
                    via="nats",
                    received_at=msg.metadata.timestamp if msg.reply else datetime.now(UTC),
                )
                for msg in batch
            ]
        )

    return handle


def trade_repricer(
    sessions: async_sessionmaker[AsyncSession], pricing: Pricing, metrics: Metrics
) -> Handler:
    """MARKET trades → fresh market price → Final Price (idempotent: a recompute)."""

    async def handle(msg: Msg) -> None:
        try:
            trade = contracts.TradeEvent.model_validate_json(msg.data)
        except pydantic.ValidationError:
            metrics.consumer_messages.labels("market-trades", "invalid").inc()
            logger.warning("invalid trade message", extra={"subject": msg.subject})
            return
        pressures = await pricing.pressures([trade.symbol])
        async with sessions() as session, session.begin():
            quotes = await scoring.reprice(session, [trade.symbol], pressures)
        await pricing.publish_quotes(quotes, market=True)

    return handle

"""The WebSocket message shapes this backend emits, built in one place.

Every message has `type`; symbol messages carry `symbol` (subscribers only); private ones
carry `account_id` (that trader's sockets only, see `hub.Client.wants`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from em_backend.market.quotes import Quote
from em_common import contracts

REALITY_UPDATE = "reality_update"
MARKET_UPDATE = "market_update"
FINAL_UPDATE = "final_update"
AUDIT_EVENT = "audit_event"
MAINTENANCE = "maintenance"
ANNOUNCEMENT = "announcement"
HEARTBEAT = "heartbeat"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def reality_update(
    symbol: str,
    old: Decimal,
    new: Decimal,
    event_id: str,
    summary: str,
    *,
    event: contracts.RealityEvent | None = None,
) -> dict[str, Any]:
    """A Reality Score move; with the event, also its published impact and sources, so a
    live feed shows the same entry as `GET /reality/events` without a second request."""
    message: dict[str, Any] = {
        "type": REALITY_UPDATE,
        "symbol": symbol,
        "reality_score": str(new),
        "previous": str(old),
        "delta": str(new - old),
        "event_id": event_id,
        "summary": summary,
        "ts": _now(),
    }
    if event is not None:
        message["impact_points"] = str(event.impact_points)
        message["sources"] = [{"id": s.id, "url": s.url, "trust": s.trust} for s in event.sources]
        message["timestamp"] = event.timestamp.isoformat()
    return message


def final_update(quote: Quote) -> dict[str, Any]:
    return {"type": FINAL_UPDATE, **quote.public()}


def market_update(quote: Quote) -> dict[str, Any]:
    return {
        "type": MARKET_UPDATE,
        "symbol": quote.symbol,
        "market_price": None if quote.market is None else str(quote.market),
        "market_stale": quote.stale,
        "ts": quote.last_updated.isoformat(),
    }


def audit_event(
    symbol: str, event_id: str, status: str, reason: str | None, delta: Decimal | None
) -> dict[str, Any]:
    return {
        "type": AUDIT_EVENT,
        "symbol": symbol,
        "event_id": event_id,
        "status": status,
        "reason": reason,
        "delta": None if delta is None else str(delta),
        "ts": _now(),
    }


def maintenance(enabled: bool, message: str, until: datetime | None) -> dict[str, Any]:
    return {
        "type": MAINTENANCE,
        "enabled": enabled,
        "message": message,
        "until": None if until is None else until.isoformat(),
        "ts": _now(),
    }


def announcement(message: str | None, starts_at: datetime | None) -> dict[str, Any]:
    return {
        "type": ANNOUNCEMENT,
        "message": message,
        "starts_at": None if starts_at is None else starts_at.isoformat(),
        "ts": _now(),
    }


def heartbeat() -> dict[str, Any]:
    return {"type": HEARTBEAT, "ts": _now()}

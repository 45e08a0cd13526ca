"""Rows as the API and the WebSocket show them."""

from __future__ import annotations

from typing import Any, Literal, cast

from em_backend.models import trading as models
from em_backend.store import orders as order_store

ORDER_UPDATE = "order_update"
TimeInForce = Literal["GTC", "IOC", "FOK"]


def status_of(row: order_store.OrderRow) -> models.OrderStatus:
    if row.status == "open" and row.filled_qty > 0:
        return "partially_filled"
    return cast(models.OrderStatus, row.status)


def order_public(row: order_store.OrderRow) -> models.OrderPublic:
    return models.OrderPublic(
        order_id=row.order_id,
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side="buy" if row.side == "buy" else "sell",
        type="market" if row.order_type == "market" else "limit",
        time_in_force=cast(TimeInForce, row.time_in_force),
        price=row.price,
        quantity=row.qty,
        filled_quantity=row.filled_qty,
        remaining_quantity=row.live,
        average_fill_price=row.avg_fill_price,
        reserved=row.reserved,
        status=status_of(row),
        reject_reason=row.reject_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def order_update(row: order_store.OrderRow) -> dict[str, Any]:
    """A private message: the hub delivers it to the owning account's sockets only."""
    return {
        "type": ORDER_UPDATE,
        "account_id": row.account_id,
        "order": order_public(row).model_dump(mode="json"),
    }

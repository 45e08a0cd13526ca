"""The MARKET stream's messages, built from what a journal batch produced.

Payloads follow em_common.contracts (TradeEvent, BookEvent) exactly; they are written with
`json.dumps` rather than through pydantic because one is built per trade on the hot path, and
a unit test checks that the contract models accept them. Everything in a message comes from
the journal (stamps included), so a message rebuilt after a restart is byte-identical and the
stream's de-duplication on `Nats-Msg-Id` drops the copy.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from em_common import contracts
from em_orderbook import ids as ids_
from em_orderbook.state import BatchOutput

Message = tuple[str, str, bytes]  # subject, Nats-Msg-Id, payload

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def points(cents: int) -> str:
    """Integer cents of a point as the contract's two-decimal string (`5025` → `"50.25"`)."""
    return f"{cents // 100}.{cents % 100:02d}"


def stamp(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat(timespec="milliseconds")


def _levels(levels: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
    return [{"price": points(price), "quantity": qty} for price, qty, _ in levels]


def build(out: BatchOutput, ids: ids_.Ids) -> list[Message]:
    """Trades first (in match order), then one book message per symbol the batch changed."""
    messages: list[Message] = []
    if not out.trades and not out.books:
        return messages
    at = stamp(out.ts_ms)
    for fill, seq in out.trades:
        trade_id = ids.trade(fill.trade_id)
        buy_is_taker = fill.taker_side == "buy"
        body = {
            "trade_id": trade_id,
            "symbol": fill.symbol,
            "seq": seq,
            "price": points(fill.price),
            "quantity": fill.qty,
            "taker_side": fill.taker_side,
            "buy_order_id": ids.order(fill.taker_order_id if buy_is_taker else fill.maker_order_id),
            "sell_order_id": ids.order(
                fill.maker_order_id if buy_is_taker else fill.taker_order_id
            ),
            "buy_account_id": fill.taker_account if buy_is_taker else fill.maker_account,
            "sell_account_id": fill.maker_account if buy_is_taker else fill.taker_account,
            "executed_at": at,
        }
        messages.append(
            (contracts.trades_subject(fill.symbol), trade_id, _dumps(body).encode("ascii"))
        )
    for symbol, seq, bids, asks, last in out.books:
        body = {
            "symbol": symbol,
            "seq": seq,
            "bids": _levels(bids),
            "asks": _levels(asks),
            "last_price": None if last is None else points(last),
            "at": at,
        }
        messages.append(
            (
                contracts.book_subject(symbol),
                ids.book_event(symbol, seq),
                _dumps(body).encode("ascii"),
            )
        )
    return messages

"""Requests checked and turned into journal commands, before anything else sees them.

A command is a plain list, because the journal stores it as JSON and replays it verbatim:
  place:  ["p", symbol, account, client_order_id, side, kind, tif, price | None, qty]
  cancel: ["x", symbol, order_number, account]
  tick:   ["t"]  (lets book changes held back by the event interval out)
Validation happens here, at the edge, so an invalid request is answered INVALID_ARGUMENT
naming the proto field and never reaches the journal: nothing changes.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from em_common import constants, contracts
from em_orderbook import errors
from everything_market.v1 import orderbook_pb2 as pb

PLACE: Final = "p"
CANCEL: Final = "x"
TICK: Final = "t"

Command = list[Any]

_SYMBOL: TypeAdapter[str] = TypeAdapter(contracts.Symbol)
_ACCOUNT = re.compile(r"[1-9][0-9]{0,18}")
_CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_MAX_ACCOUNT = 2**63 - 1
_SIDES: Final = {pb.SIDE_BUY: "buy", pb.SIDE_SELL: "sell"}
_LIMIT_TIFS: Final = {
    pb.TIME_IN_FORCE_UNSPECIFIED: "gtc",
    pb.TIME_IN_FORCE_GTC: "gtc",
    pb.TIME_IN_FORCE_IOC: "ioc",
    pb.TIME_IN_FORCE_FOK: "fok",
}
_MARKET_TIFS: Final = {
    pb.TIME_IN_FORCE_UNSPECIFIED: "ioc",
    pb.TIME_IN_FORCE_IOC: "ioc",
    pb.TIME_IN_FORCE_FOK: "fok",
}
_known_symbols: set[str] = set()


def symbol(value: str) -> str:
    """The symbol if it matches the shared contract's pattern (cached once seen valid)."""
    if value in _known_symbols:
        return value
    try:
        _SYMBOL.validate_python(value)
    except ValidationError:
        raise errors.InvalidArgument(
            "symbol", "symbol must be 2-16 characters of A-Z, 0-9 or _, starting with a letter"
        ) from None
    if len(_known_symbols) < 100_000:
        _known_symbols.add(value)
    return value


def account(value: str) -> str:
    if _ACCOUNT.fullmatch(value) is None or int(value) > _MAX_ACCOUNT:
        raise errors.InvalidArgument("account_id", "account_id must be a positive integer id")
    return value


def place(req: pb.PlaceOrderRequest) -> Command:
    """The place command for a request, or InvalidArgument naming the first bad field."""
    sym = symbol(req.symbol)
    acct = account(req.account_id)
    coid = req.client_order_id
    if _CLIENT_ORDER_ID.fullmatch(coid) is None:
        raise errors.InvalidArgument(
            "client_order_id", "client_order_id must be 1-64 characters of A-Z a-z 0-9 _ . : -"
        )
    side = _SIDES.get(req.side)
    if side is None:
        raise errors.InvalidArgument("side", "side must be SIDE_BUY or SIDE_SELL")
    price: int | None
    if req.type == pb.ORDER_TYPE_LIMIT:
        kind = "limit"
        tif = _LIMIT_TIFS.get(req.time_in_force)
        price = req.price_cents
        if not constants.PRICE_CENTS_MIN <= price <= constants.PRICE_CENTS_MAX:
            raise errors.InvalidArgument(
                "price_cents",
                f"price_cents must be {constants.PRICE_CENTS_MIN}..{constants.PRICE_CENTS_MAX}"
                " for a limit order",
            )
    elif req.type == pb.ORDER_TYPE_MARKET:
        kind = "market"
        tif = _MARKET_TIFS.get(req.time_in_force)
        price = None
    else:
        raise errors.InvalidArgument("type", "type must be ORDER_TYPE_LIMIT or ORDER_TYPE_MARKET")
    if tif is None:
        allowed = "GTC, IOC or FOK" if kind == "limit" else "IOC or FOK"
        raise errors.InvalidArgument(
            "time_in_force", f"time_in_force of a {kind} order must be {allowed}"
        )
    qty = req.quantity
    if not constants.QUANTITY_MIN <= qty <= constants.QUANTITY_MAX:
        raise errors.InvalidArgument(
            "quantity", f"quantity must be {constants.QUANTITY_MIN}..{constants.QUANTITY_MAX}"
        )
    return [PLACE, sym, acct, coid, side, kind, tif, price, qty]


def depth(value: int) -> int:
    if value == 0:
        return 10
    if not 1 <= value <= 100:
        raise errors.InvalidArgument("depth", "depth must be 1..100 (0 means 10)")
    return value


def window_seconds(value: int) -> int:
    if value in (pb.PRESSURE_WINDOW_UNSPECIFIED, pb.PRESSURE_WINDOW_ONE_MINUTE):
        return 60
    if value == pb.PRESSURE_WINDOW_ONE_HOUR:
        return 3600
    raise errors.InvalidArgument("window", "window must be ONE_MINUTE or ONE_HOUR")


def order_id(value: str) -> str:
    if not value:
        raise errors.InvalidArgument("order_id", "order_id is required")
    return value

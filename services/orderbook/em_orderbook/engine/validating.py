"""The slow path of `place`: find which argument is invalid and build the rejection.

`Engine.place` only learns *that* something is wrong, with the cheapest checks; this module
repeats the checks in a fixed order so that the reported field does not depend on which check
the hot path happened to run first.
"""

from __future__ import annotations

from em_orderbook.engine import orders

_TIFS = {
    orders.LIMIT: (orders.GTC, orders.IOC, orders.FOK),
    orders.MARKET: (orders.IOC, orders.FOK),
}


def _is_int(value: object) -> bool:
    return type(value) is int


def problem(
    symbol: object,
    account: object,
    side: object,
    kind: object,
    qty: object,
    price: object,
    tif: object,
    *,
    known_symbol: bool,
) -> tuple[str, str, str] | None:
    """(reason, field, message) for the first invalid argument, or None when all are valid."""
    if type(symbol) is not str or not symbol:
        return orders.INVALID_ARGUMENT, "symbol", "symbol must be a non-empty string"
    if not known_symbol:
        return orders.UNKNOWN_SYMBOL, "symbol", f"symbol {symbol!r} is not traded"
    if type(account) is not str or not account:
        return orders.INVALID_ARGUMENT, "account", "account must be a non-empty string"
    if side != orders.BUY and side != orders.SELL:
        return orders.INVALID_ARGUMENT, "side", "side must be 'buy' or 'sell'"
    if kind != orders.LIMIT and kind != orders.MARKET:
        return orders.INVALID_ARGUMENT, "kind", "kind must be 'limit' or 'market'"
    if not _is_int(qty) or not orders.MIN_QTY <= qty <= orders.MAX_QTY:  # type: ignore[operator]
        return (
            orders.INVALID_ARGUMENT,
            "qty",
            f"qty must be an integer in {orders.MIN_QTY}..{orders.MAX_QTY}",
        )
    if kind == orders.LIMIT:
        if not _is_int(price) or not orders.MIN_PRICE <= price <= orders.MAX_PRICE:  # type: ignore[operator]
            return (
                orders.INVALID_ARGUMENT,
                "price",
                f"price must be integer cents in {orders.MIN_PRICE}..{orders.MAX_PRICE}",
            )
    elif price is not None:
        return orders.INVALID_ARGUMENT, "price", "a market order takes no price"
    allowed = _TIFS[str(kind)]
    if tif is not None and tif not in allowed:
        return (
            orders.INVALID_ARGUMENT,
            "tif",
            f"tif of a {kind} order must be one of {', '.join(allowed)}",
        )
    return None


def reject(
    symbol: object,
    account: object,
    side: object,
    kind: object,
    qty: object,
    price: object,
    tif: object,
    *,
    known_symbol: bool,
) -> orders.PlaceTuple:
    found = problem(symbol, account, side, kind, qty, price, tif, known_symbol=known_symbol)
    if found is None:
        raise AssertionError("place() took the rejection path for a valid order")
    reason, field, message = found
    return refuse(symbol, side, reason, message, field)


def refuse(
    symbol: object, side: object, reason: str, message: str, field: str | None = None
) -> orders.PlaceTuple:
    """A rejection that leaves the book untouched and issues no order id."""
    return (
        orders.REJECTED,
        None,
        symbol if isinstance(symbol, str) else "",
        side if isinstance(side, str) else "",
        (),
        0,
        0,
        (),
        reason,
        field,
        message,
    )

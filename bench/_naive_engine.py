"""The seed system's matching approach, kept as the benchmark's baseline.

Same semantics and id sequence as `em_orderbook.engine.Engine` (so the benchmark can check that
both ran the same market), but built the way the seed built it: orders are dicts in a list per
price level, the level prices are sorted again on every order, fills pop from the front of a
list and cancels search the level's list. Correct, and slow on purpose; not for production.
"""

from __future__ import annotations

from typing import Any

Order = dict[str, Any]


class NaiveEngine:
    def __init__(self, symbols: list[str]) -> None:
        self.books: dict[str, dict[str, dict[int, list[Order]]]] = {
            s: {"buy": {}, "sell": {}} for s in symbols
        }
        self.where: dict[int, tuple[str, str, int]] = {}
        self.next_order_id = 1
        self.next_trade_id = 1
        self.last_trade: dict[str, dict[str, Any]] = {}

    def _prices(self, symbol: str, side: str) -> list[int]:
        levels = self.books[symbol][side]
        return sorted(levels, reverse=(side == "buy"))

    def place(
        self,
        symbol: str,
        account: str,
        side: str,
        kind: str,
        qty: int,
        price: int | None = None,
        tif: str | None = None,
    ) -> dict[str, Any]:
        if symbol not in self.books or not 1 <= qty <= 10_000:
            return {"status": "rejected", "reason": "invalid_argument"}
        if kind == "limit" and (price is None or not 1 <= price <= 9999):
            return {"status": "rejected", "reason": "invalid_argument"}
        tif = tif or ("gtc" if kind == "limit" else "ioc")
        other = "sell" if side == "buy" else "buy"
        levels = self.books[symbol][other]
        prices = self._prices(symbol, other)
        self._prices(symbol, side)

        def crosses(level_price: int) -> bool:
            if price is None:
                return True
            return level_price <= price if side == "buy" else level_price >= price

        if kind == "market" and not prices:
            return {"status": "rejected", "reason": "no_liquidity"}
        if tif == "fok":
            available = sum(
                o["remaining"]
                for p in prices
                if crosses(p)
                for o in levels[p]
                if o["account"] != account
            )
            if available < qty:
                return {"status": "rejected", "reason": "fok_unfillable"}
        order_id = self.next_order_id
        self.next_order_id += 1
        remaining = qty
        fills: list[dict[str, Any]] = []
        cancels: list[int] = []
        for level_price in prices:
            if not remaining or not crosses(level_price):
                break
            queue = levels[level_price]
            while queue and remaining:
                maker = queue[0]
                if maker["account"] == account:
                    queue.pop(0)
                    del self.where[maker["id"]]
                    cancels.append(maker["id"])
                    continue
                traded = min(remaining, maker["remaining"])
                maker["remaining"] -= traded
                remaining -= traded
                fills.append(
                    {
                        "trade_id": self.next_trade_id,
                        "maker": maker["id"],
                        "taker": order_id,
                        "price": level_price,
                        "qty": traded,
                    }
                )
                self.next_trade_id += 1
                if maker["remaining"] == 0:
                    queue.pop(0)
                    del self.where[maker["id"]]
            if not queue:
                del levels[level_price]
        if fills:
            self.last_trade[symbol] = fills[-1]
        resting = 0
        if remaining and tif == "gtc":
            assert price is not None
            own = self.books[symbol][side]
            own.setdefault(price, []).append(
                {"id": order_id, "account": account, "remaining": remaining}
            )
            self.where[order_id] = (symbol, side, price)
            resting = remaining
        return {
            "status": "accepted",
            "order_id": order_id,
            "fills": fills,
            "resting": resting,
            "self_trade_cancels": cancels,
        }

    def cancel(self, order_id: int, account: str | None = None) -> dict[str, Any]:
        for sides in self.books.values():
            for levels in sides.values():
                for price, queue in levels.items():
                    for i, order in enumerate(queue):
                        if order["id"] == order_id:
                            if account is not None and order["account"] != account:
                                return {"result": "not_owner"}
                            queue.pop(i)
                            if not queue:
                                del levels[price]
                            del self.where[order_id]
                            return {"result": "cancelled"}
        return {"result": "finished" if 0 < order_id < self.next_order_id else "unknown"}

    def open_orders(self) -> int:
        return len(self.where)

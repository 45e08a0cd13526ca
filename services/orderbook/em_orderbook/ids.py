"""Public order and trade ids: the engine's counters made unique across shards and journals.

The engine counts from 1 in every shard, and again after a journal is reset; ids that leave
the process must not collide, because the MARKET stream de-duplicates on `Nats-Msg-Id` (a
reused trade id would silently drop a trade) and PostgreSQL keys rows on them. So a public id
carries the shard and the journal's epoch, a random token fixed when the journal is created:
`O0-3fa9c1-17` is order 17 of shard 0 in that journal, `T0-3fa9c1-5` its trade 5.
"""

from __future__ import annotations


class Ids:
    __slots__ = ("_order_prefix", "_trade_prefix", "epoch", "shard")

    def __init__(self, shard: int, epoch: str) -> None:
        self.shard = shard
        self.epoch = epoch
        self._order_prefix = f"O{shard}-{epoch}-"
        self._trade_prefix = f"T{shard}-{epoch}-"

    def order(self, number: int) -> str:
        return self._order_prefix + str(number)

    def trade(self, number: int) -> str:
        return self._trade_prefix + str(number)

    def book_event(self, symbol: str, seq: int) -> str:
        return f"B{self.shard}-{self.epoch}-{symbol}-{seq}"

    def parse_order(self, order_id: str) -> int | None:
        """The engine's number for one of *our* order ids, else None (foreign or malformed)."""
        if not order_id.startswith(self._order_prefix):
            return None
        tail = order_id[len(self._order_prefix) :]
        if not tail.isdigit() or tail.startswith("0") or len(tail) > 18:
            return None
        return int(tail)

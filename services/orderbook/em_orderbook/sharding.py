"""Which replica owns which symbol.

A symbol belongs to shard `crc32(symbol) % count`: stable across processes, Python versions
and restarts (unlike `hash()`), and needs no directory service. The index comes from
settings or, in a StatefulSet, from the pod's ordinal (`orderbook-2` → 2).
"""

from __future__ import annotations

import re
import zlib

from em_orderbook import errors

_ORDINAL = re.compile(r"-(\d+)$")


def owner(symbol: str, count: int) -> int:
    return zlib.crc32(symbol.encode("utf-8")) % count


def resolve_index(index: int | None, count: int, hostname: str) -> int:
    """The shard index: explicit setting, else the hostname's ordinal, else 0 for one shard."""
    if count < 1:
        raise ValueError("ORDERBOOK_SHARD_COUNT must be >= 1")
    if index is None:
        match = _ORDINAL.search(hostname)
        if match is not None:
            index = int(match.group(1))
        elif count == 1:
            index = 0
        else:
            raise ValueError(
                "ORDERBOOK_SHARD_INDEX is unset and the hostname has no -<ordinal> suffix"
            )
    if not 0 <= index < count:
        raise ValueError(f"shard index {index} is outside 0..{count - 1}")
    return index


class Shard:
    """This replica's place in the ring, with an owner cache for the hot path."""

    __slots__ = ("_owned", "count", "index")

    def __init__(self, index: int, count: int) -> None:
        self.index = index
        self.count = count
        self._owned: dict[str, int] = {}

    def check(self, symbol: str) -> None:
        """Raise WrongShard unless this replica owns `symbol`."""
        found = self._owned.get(symbol)
        if found is None:
            found = owner(symbol, self.count)
            if len(self._owned) < 100_000:
                self._owned[symbol] = found
        if found != self.index:
            raise errors.WrongShard(symbol, found, self.count)

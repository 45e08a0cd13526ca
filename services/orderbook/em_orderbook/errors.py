"""Errors of the orderbook service, translated to gRPC status codes only at the edge.

Bad orders that the book itself refuses (no liquidity, fill-or-kill) are results, not errors;
these exceptions cover requests that must change nothing and the service's own failures.
"""

from __future__ import annotations


class OrderbookError(Exception):
    """Base of every error the orderbook service raises."""


class InvalidArgument(OrderbookError):
    """A request field is invalid; `field` is its proto name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class WrongShard(OrderbookError):
    """The symbol belongs to another replica."""

    def __init__(self, symbol: str, owner: int, count: int) -> None:
        super().__init__(f"symbol {symbol} is owned by shard {owner} of {count}, not this one")
        self.owner = owner


class OrderNotFound(OrderbookError):
    """No such order in this shard (never issued, or another symbol)."""


class NotOwner(OrderbookError):
    """The order belongs to another account."""


class OrderFinished(OrderbookError):
    """The order exists but is already filled or cancelled."""


class Unavailable(OrderbookError):
    """The service cannot take commands now (starting, draining, journal unreachable)."""


class JournalError(OrderbookError):
    """The journal cannot be written or read consistently."""


class JournalFenced(JournalError):
    """Someone else wrote to this shard's journal: this process must stop writing at once."""


class RecoveryError(OrderbookError):
    """The snapshot and the journal do not fit together (reset journal, wrong shard count)."""

"""Every table the backend owns, importable from one place.

Alembic's env and the tests take `metadata` from here; importing the modules below is
what registers their tables on it.
"""

from __future__ import annotations

from em_backend.db.base import Base
from em_backend.db.market import Event, LlmAudit, LlmCall, Score, ScoreChange, ScoreHistory, Stock
from em_backend.db.money import (
    Account,
    LedgerEntry,
    OrderReservation,
    Position,
    SettledTrade,
    User,
)

metadata = Base.metadata

__all__ = [
    "Account",
    "Base",
    "Event",
    "LedgerEntry",
    "LlmAudit",
    "LlmCall",
    "OrderReservation",
    "Position",
    "Score",
    "ScoreChange",
    "ScoreHistory",
    "SettledTrade",
    "Stock",
    "User",
    "metadata",
]

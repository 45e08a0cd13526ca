"""The backend's declarative base and the column types its tables share.

Enumerations are text with CHECK constraints rather than PostgreSQL ENUM types: adding a
value is then a plain constraint swap in a migration, and downgrades stay simple.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, MetaData, Numeric, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from em_common.db import NAMING_CONVENTION

PRICE = Numeric(7, 2)  # points on the 0-100 scale, to the cent
MONEY = Numeric(18, 2)
WEIGHT = Numeric(5, 4)  # 0-1
AVG_COST = Numeric(12, 6)  # an average of prices needs more places than a price
TIMESTAMP = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def created_at() -> Mapped[datetime]:
    return mapped_column(TIMESTAMP, nullable=False, server_default=func.now())


def updated_at() -> Mapped[datetime]:
    return mapped_column(TIMESTAMP, nullable=False, server_default=func.now(), onupdate=func.now())


def price_range(column: str) -> str:
    """SQL for the 0-100 bound every price and score obeys (NULL passes, as CHECKs do)."""
    return f"{column} >= 0 AND {column} <= 100"

"""Tables owned by the Reality Engine.

- `reality_outbox`: events written in the same transaction that marks their articles seen,
  published in `seq` order and stamped `published_at` once JetStream acknowledged them. A
  NATS outage therefore loses nothing and reorders nothing.
- `reality_seen`: every article read to the end, keyed by a hash of its URL (or of URL and
  text for page-only sources), so a re-scrape hours later does not publish it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, MetaData, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from em_common.db import NAMING_CONVENTION

TIMESTAMP = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OutboxEntry(Base):
    __tablename__ = "reality_outbox"
    __table_args__ = (
        Index(
            "ix_reality_outbox_unpublished",
            "seq",
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    event_id: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        TIMESTAMP, nullable=False, server_default=func.now()
    )
    published_at: Mapped[datetime | None] = mapped_column(TIMESTAMP, nullable=True)


class SeenArticle(Base):
    __tablename__ = "reality_seen"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    source_id: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    first_seen: Mapped[datetime] = mapped_column(
        TIMESTAMP, nullable=False, server_default=func.now()
    )


metadata = Base.metadata

"""The Reality Engine's outbox and seen-set.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Written out in full rather than importing the models (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Downgrading drops unpublished events and the seen-set (articles would be read again).
data_loss_on_downgrade: bool = True


def upgrade() -> None:
    op.create_table(
        "reality_outbox",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_reality_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_reality_outbox_event_id")),
    )
    op.create_index(
        "ix_reality_outbox_unpublished",
        "reality_outbox",
        ["seq"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "reality_seen",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "first_seen",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_reality_seen")),
    )


def downgrade() -> None:
    op.drop_table("reality_seen")
    op.drop_table("reality_outbox")

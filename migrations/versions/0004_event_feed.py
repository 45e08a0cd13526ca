"""The public reality feed: an index for applied events, newest first.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

`GET /api/v1/reality/events` pages through `events` with `status = 'applied'` ordered by
(decided_at, id) descending, a keyset cursor; without this index every page would sort the
whole table. Downgrading only drops the index: no data is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

data_loss_on_downgrade: bool = False


def upgrade() -> None:
    op.create_index(
        op.f("ix_events_status_decided_at_id"),
        "events",
        ["status", "decided_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_events_status_decided_at_id"), table_name="events")

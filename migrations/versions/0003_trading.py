"""Trading: the play-money issuer, exact cost basis, order progress, trade details.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

- accounts.system_key names system accounts; the issuer (`issuer`) is created here and is
  the one account whose cash may go below zero (it pays every starting grant).
- positions.cost_basis keeps a position's cost to the cent (avg_cost alone rounds).
- order_reservations gains the order's type, time in force and progress counters.
- settled_trades records both order ids, the taker side and the execution time.

Downgrading drops these columns and the issuer with its ledger legs: data loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

data_loss_on_downgrade: bool = True

MONEY = sa.Numeric(precision=18, scale=2)


def _check(table: str, name: str, sql: str) -> None:
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, sql)


def _drop_check(table: str, name: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")


def upgrade() -> None:
    op.add_column("accounts", sa.Column("system_key", sa.Text(), nullable=True))
    op.create_unique_constraint(op.f("uq_accounts_system_key"), "accounts", ["system_key"])
    _drop_check("accounts", "cash_non_negative")
    _check("accounts", "cash_non_negative", "cash >= 0 OR system_key IS NOT NULL")
    _check("accounts", "user_or_system", "user_id IS NULL OR system_key IS NULL")
    op.execute("INSERT INTO accounts (system_key) VALUES ('issuer')")

    op.add_column("positions", sa.Column("cost_basis", MONEY, server_default="0", nullable=False))
    op.execute(
        "UPDATE positions SET cost_basis = round(abs(quantity) * avg_cost, 2) WHERE quantity <> 0"
    )
    _check("positions", "cost_basis_non_negative", "cost_basis >= 0")
    _check("positions", "flat_has_no_basis", "quantity <> 0 OR cost_basis = 0")

    table = "order_reservations"
    op.add_column(table, sa.Column("order_type", sa.Text(), server_default="limit", nullable=False))
    op.execute("UPDATE order_reservations SET order_type = 'market' WHERE price IS NULL")
    op.add_column(
        table, sa.Column("time_in_force", sa.Text(), server_default="GTC", nullable=False)
    )
    op.add_column(
        table, sa.Column("filled_qty", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column(
        table, sa.Column("closed_qty", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column(table, sa.Column("filled_value", MONEY, server_default="0", nullable=False))
    op.add_column(table, sa.Column("reject_reason", sa.Text(), nullable=True))
    _check(table, "order_type", "order_type IN ('limit', 'market')")
    _check(table, "time_in_force", "time_in_force IN ('GTC', 'IOC', 'FOK')")
    _check(
        table,
        "progress_within_qty",
        "filled_qty >= 0 AND closed_qty >= 0 AND filled_qty + closed_qty <= qty",
    )
    _check(table, "filled_value_non_negative", "filled_value >= 0")
    op.create_index(
        op.f("ix_order_reservations_account_id_symbol_side"),
        table,
        ["account_id", "symbol", "side"],
        unique=False,
    )

    trades = "settled_trades"
    # Server defaults only fill rows settled before this revision; new rows always say.
    for name in ("buy_order_id", "sell_order_id"):
        op.add_column(trades, sa.Column(name, sa.Text(), server_default="", nullable=False))
        op.alter_column(trades, name, server_default=None)
    op.add_column(trades, sa.Column("taker_side", sa.Text(), server_default="buy", nullable=False))
    op.alter_column(trades, "taker_side", server_default=None)
    op.add_column(
        trades,
        sa.Column(
            "executed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.execute("UPDATE settled_trades SET executed_at = settled_at")
    op.alter_column(trades, "executed_at", server_default=None)
    _check(trades, "taker_side", "taker_side IN ('buy', 'sell')")
    for name in ("buy_order_id", "sell_order_id"):
        op.create_index(op.f(f"ix_settled_trades_{name}"), trades, [name], unique=False)


def downgrade() -> None:
    trades = "settled_trades"
    for name in ("buy_order_id", "sell_order_id"):
        op.drop_index(op.f(f"ix_settled_trades_{name}"), table_name=trades)
    _drop_check(trades, "taker_side")
    for name in ("executed_at", "taker_side", "sell_order_id", "buy_order_id"):
        op.drop_column(trades, name)

    table = "order_reservations"
    op.drop_index(op.f("ix_order_reservations_account_id_symbol_side"), table_name=table)
    for name in ("filled_value_non_negative", "progress_within_qty", "time_in_force", "order_type"):
        _drop_check(table, name)
    for name in (
        "reject_reason",
        "filled_value",
        "closed_qty",
        "filled_qty",
        "time_in_force",
        "order_type",
    ):
        op.drop_column(table, name)

    _drop_check("positions", "flat_has_no_basis")
    _drop_check("positions", "cost_basis_non_negative")
    op.drop_column("positions", "cost_basis")

    op.execute(
        "DELETE FROM ledger_entries WHERE account_id IN "
        "(SELECT id FROM accounts WHERE system_key IS NOT NULL)"
    )
    op.execute("DELETE FROM accounts WHERE system_key IS NOT NULL")
    _drop_check("accounts", "user_or_system")
    _drop_check("accounts", "cash_non_negative")
    _check("accounts", "cash_non_negative", "cash >= 0")
    op.drop_constraint(op.f("uq_accounts_system_key"), "accounts", type_="unique")
    op.drop_column("accounts", "system_key")

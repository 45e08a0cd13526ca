"""Initial schema: the backend's and the orderbook's tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Written out in full rather than importing the models: a revision must keep meaning what it
meant when it shipped, whatever the models become later.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Downgrading drops every table.
data_loss_on_downgrade: bool = True

PRICE = sa.Numeric(precision=7, scale=2)
MONEY = sa.Numeric(precision=18, scale=2)
WEIGHT = sa.Numeric(precision=5, scale=4)
JSONB = postgresql.JSONB(astext_type=sa.Text())


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def _now(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _check(sql: str, name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=op.f(name))


def _range(table: str, column: str, high: int = 100) -> sa.CheckConstraint:
    return _check(f"{column} >= 0 AND {column} <= {high}", f"ck_{table}_{column}_range")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    referred, _, _ = target.partition(".")
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), unique=False)


def upgrade() -> None:
    _upgrade_catalogue()
    _upgrade_money()
    _upgrade_orderbook()


def _upgrade_catalogue() -> None:
    op.create_table(
        "stocks",
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("kind", sa.Text(), server_default="stock", nullable=False),
        sa.Column("components", JSONB, server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column(
            "aliases",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("min_price", PRICE, server_default="0", nullable=False),
        sa.Column("max_price", PRICE, server_default="100", nullable=False),
        sa.Column("market_weight", WEIGHT, server_default="0.6", nullable=False),
        sa.Column("reality_weight", WEIGHT, server_default="0.4", nullable=False),
        sa.Column("initial_score", PRICE, server_default="50", nullable=False),
        _now("created_at"),
        _now("updated_at"),
        _check(r"symbol ~ '^[A-Z0-9_]{1,32}$'", "ck_stocks_symbol_format"),
        _check("kind IN ('stock', 'index')", "ck_stocks_kind"),
        _check("jsonb_typeof(components) = 'array'", "ck_stocks_components_array"),
        _check(
            "kind = 'index' OR jsonb_array_length(components) = 0",
            "ck_stocks_components_only_index",
        ),
        _check(
            "min_price >= 0 AND min_price < max_price AND max_price <= 100",
            "ck_stocks_price_bounds",
        ),
        _range("stocks", "initial_score"),
        _check("market_weight >= 0 AND market_weight <= 1", "ck_stocks_market_weight_range"),
        _check("reality_weight >= 0 AND reality_weight <= 1", "ck_stocks_reality_weight_range"),
        _check("market_weight + reality_weight = 1", "ck_stocks_weights_sum"),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_stocks")),
    )
    op.create_table(
        "scores",
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("reality_score", PRICE, nullable=False),
        sa.Column("market_price", PRICE, nullable=True),
        sa.Column("final_price", PRICE, nullable=False),
        sa.Column("confidence", WEIGHT, server_default="0", nullable=False),
        _now("updated_at"),
        _range("scores", "reality_score"),
        _range("scores", "market_price"),
        _range("scores", "final_price"),
        _range("scores", "confidence", high=1),
        _fk("scores", "symbol", "stocks.symbol", "CASCADE"),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_scores")),
    )
    op.create_table(
        "score_history",
        _id(),
        sa.Column("symbol", sa.Text(), nullable=False),
        _now("ts"),
        sa.Column("final_price", PRICE, nullable=False),
        sa.Column("reality_score", PRICE, nullable=False),
        sa.Column("market_price", PRICE, nullable=True),
        _range("score_history", "final_price"),
        _range("score_history", "reality_score"),
        _range("score_history", "market_price"),
        _fk("score_history", "symbol", "stocks.symbol", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_history")),
    )
    _index("score_history", "symbol", "ts")
    op.create_table(
        "events",
        _id(),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _now("received_at"),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        _check("status IN ('applied', 'pending_review', 'rejected')", "ck_events_status"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
    )
    _index("events", "status", "received_at")
    op.create_table(
        "llm_audit",
        _id(),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("delta", PRICE, nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _now("created_at"),
        _check("decision IN ('approve', 'reject')", "ck_llm_audit_decision"),
        _check("(decision IS NULL) = (approved_at IS NULL)", "ck_llm_audit_decision_has_time"),
        _fk("llm_audit", "event_id", "events.event_id", "CASCADE"),
        _fk("llm_audit", "symbol", "stocks.symbol", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_audit")),
    )
    _index("llm_audit", "event_id")
    _index("llm_audit", "symbol", "created_at")
    op.create_table(
        "score_changes",
        _id(),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.Column("old_score", PRICE, nullable=False),
        sa.Column("new_score", PRICE, nullable=False),
        sa.Column("delta", PRICE, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        _now("created_at"),
        _range("score_changes", "old_score"),
        _range("score_changes", "new_score"),
        _fk("score_changes", "event_id", "events.event_id", "SET NULL"),
        _fk("score_changes", "symbol", "stocks.symbol", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_changes")),
    )
    _index("score_changes", "symbol", "created_at")
    _index("score_changes", "event_id")
    _index("score_changes", "source", "created_at")
    op.create_table(
        "llm_calls",
        _id(),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("input_hash", sa.Text(), nullable=False),
        sa.Column("output", JSONB, nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        _now("created_at"),
        _check("latency_ms >= 0", "ck_llm_calls_latency_non_negative"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_calls")),
    )
    _index("llm_calls", "event_id")
    _index("llm_calls", "created_at")


def _upgrade_money() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "accounts",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("cash", MONEY, server_default="0", nullable=False),
        sa.Column("reserved", MONEY, server_default="0", nullable=False),
        sa.Column("collateral", MONEY, server_default="0", nullable=False),
        _now("created_at"),
        _now("updated_at"),
        _check("cash >= 0", "ck_accounts_cash_non_negative"),
        _check("reserved >= 0", "ck_accounts_reserved_non_negative"),
        _check("collateral >= 0", "ck_accounts_collateral_non_negative"),
        _fk("accounts", "user_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("user_id", name=op.f("uq_accounts_user_id")),
    )
    op.create_table(
        "positions",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "avg_cost", sa.Numeric(precision=12, scale=6), server_default="0", nullable=False
        ),
        _now("updated_at"),
        _range("positions", "avg_cost"),
        _fk("positions", "account_id", "accounts.id", "CASCADE"),
        _fk("positions", "symbol", "stocks.symbol", "RESTRICT"),
        sa.PrimaryKeyConstraint("account_id", "symbol", name=op.f("pk_positions")),
    )
    _index("positions", "symbol")
    op.create_table(
        "ledger_entries",
        _id(),
        sa.Column("txn_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("bucket", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("ref", sa.Text(), nullable=True),
        _now("created_at"),
        _check("bucket IN ('cash', 'reserved', 'collateral')", "ck_ledger_entries_bucket"),
        _check("amount <> 0", "ck_ledger_entries_amount_non_zero"),
        _fk("ledger_entries", "account_id", "accounts.id", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    _index("ledger_entries", "account_id", "created_at")
    _index("ledger_entries", "txn_id")
    _index("ledger_entries", "ref")
    op.create_table(
        "settled_trades",
        sa.Column("trade_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("buyer_account_id", sa.BigInteger(), nullable=False),
        sa.Column("seller_account_id", sa.BigInteger(), nullable=False),
        sa.Column("price", PRICE, nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        _now("settled_at"),
        _range("settled_trades", "price"),
        _check("qty > 0", "ck_settled_trades_qty_positive"),
        _fk("settled_trades", "symbol", "stocks.symbol", "RESTRICT"),
        _fk("settled_trades", "buyer_account_id", "accounts.id", "RESTRICT"),
        _fk("settled_trades", "seller_account_id", "accounts.id", "RESTRICT"),
        sa.PrimaryKeyConstraint("trade_id", name=op.f("pk_settled_trades")),
    )
    _index("settled_trades", "symbol", "settled_at")
    _index("settled_trades", "buyer_account_id")
    _index("settled_trades", "seller_account_id")
    op.create_table(
        "order_reservations",
        _id(),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("client_order_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("price", PRICE, nullable=True),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("reserved", MONEY, server_default="0", nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        _now("created_at"),
        _now("updated_at"),
        _check("side IN ('buy', 'sell')", "ck_order_reservations_side"),
        _check(
            "status IN ('pending', 'open', 'filled', 'cancelled', 'rejected')",
            "ck_order_reservations_status",
        ),
        _range("order_reservations", "price"),
        _check("qty > 0", "ck_order_reservations_qty_positive"),
        _check("reserved >= 0", "ck_order_reservations_reserved_non_negative"),
        _fk("order_reservations", "account_id", "accounts.id", "RESTRICT"),
        _fk("order_reservations", "symbol", "stocks.symbol", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_reservations")),
        sa.UniqueConstraint(
            "account_id",
            "client_order_id",
            name=op.f("uq_order_reservations_account_id_client_order_id"),
        ),
        sa.UniqueConstraint("order_id", name=op.f("uq_order_reservations_order_id")),
    )
    _index("order_reservations", "account_id", "status")


def _upgrade_orderbook() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("client_order_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("tif", sa.Text(), server_default="gtc", nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=True),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("filled_qty", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        _now("created_at"),
        _now("updated_at"),
        _check("side IN ('buy', 'sell')", "ck_orders_side"),
        _check("type IN ('limit', 'market')", "ck_orders_type"),
        _check("tif IN ('gtc', 'ioc', 'fok')", "ck_orders_tif"),
        _check(
            "status IN ('open', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired')",
            "ck_orders_status",
        ),
        _check("price_cents >= 0 AND price_cents <= 10000", "ck_orders_price_range"),
        _check("type = 'market' OR price_cents IS NOT NULL", "ck_orders_limit_has_price"),
        _check("qty > 0", "ck_orders_qty_positive"),
        _check("filled_qty >= 0 AND filled_qty <= qty", "ck_orders_filled_within_qty"),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
        sa.UniqueConstraint(
            "account_id", "client_order_id", name=op.f("uq_orders_account_id_client_order_id")
        ),
    )
    _index("orders", "symbol", "status")
    _index("orders", "account_id", "created_at")
    op.create_table(
        "trades",
        sa.Column("trade_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("maker_order_id", sa.Text(), nullable=False),
        sa.Column("taker_order_id", sa.Text(), nullable=False),
        sa.Column("maker_account_id", sa.BigInteger(), nullable=False),
        sa.Column("taker_account_id", sa.BigInteger(), nullable=False),
        sa.Column("taker_side", sa.Text(), nullable=False),
        _now("created_at"),
        _check("price_cents >= 0 AND price_cents <= 10000", "ck_trades_price_range"),
        _check("qty > 0", "ck_trades_qty_positive"),
        _check("taker_side IN ('buy', 'sell')", "ck_trades_taker_side"),
        _fk("trades", "maker_order_id", "orders.order_id", "RESTRICT"),
        _fk("trades", "taker_order_id", "orders.order_id", "RESTRICT"),
        sa.PrimaryKeyConstraint("trade_id", name=op.f("pk_trades")),
    )
    _index("trades", "symbol", "created_at")
    _index("trades", "maker_order_id")
    _index("trades", "taker_order_id")
    op.create_table(
        "orderbook_journal",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("shard", sa.Text(), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_orderbook_journal")),
    )
    _index("orderbook_journal", "shard", "seq")
    op.create_table(
        "orderbook_snapshots",
        _id(),
        sa.Column("shard", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("state", JSONB, nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orderbook_snapshots")),
        sa.UniqueConstraint("shard", "seq", name=op.f("uq_orderbook_snapshots_shard_seq")),
    )


def downgrade() -> None:
    # Dependents first; dropping a table drops its indexes and constraints with it.
    for table in (
        "orderbook_snapshots",
        "orderbook_journal",
        "trades",
        "orders",
        "order_reservations",
        "settled_trades",
        "ledger_entries",
        "positions",
        "accounts",
        "users",
        "llm_calls",
        "score_changes",
        "llm_audit",
        "events",
        "score_history",
        "scores",
        "stocks",
    ):
        op.drop_table(table)

"""The one Alembic history against real PostgreSQL: it round-trips, matches the models, and
its constraints refuse the rows the domain rules forbid."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import NullPool

from em_backend.db import tables as backend
from em_common import db, migrating
from em_orderbook.db import tables as orderbook
from em_reality.db import tables as reality


def _public_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {row[0] for row in rows}


def _model_tables() -> set[str]:
    return (
        set(backend.metadata.tables) | set(orderbook.metadata.tables) | set(reality.metadata.tables)
    )


def test_history_has_one_head() -> None:
    assert migrating.heads() == ["0004"]


def test_upgrade_downgrade_upgrade_round_trip(empty_database_url: str) -> None:
    url = empty_database_url
    assert migrating.current(url) is None

    assert not migrating.at_head(url)
    migrating.upgrade(url, "head")
    assert migrating.current(url) == migrating.heads()[0]
    assert migrating.at_head(url)
    assert _public_tables(url) == _model_tables() | {"alembic_version"}

    migrating.downgrade(url, "base", allow_data_loss=True)
    assert migrating.current(url) is None
    assert _public_tables(url) == {"alembic_version"}

    migrating.upgrade(url, "head")
    assert migrating.current(url) == migrating.heads()[0]
    assert _public_tables(url) == _model_tables() | {"alembic_version"}


def test_models_and_migrated_schema_do_not_differ(database_url: str) -> None:
    engine = create_engine(db.sync_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            metadata: Any = [backend.metadata, orderbook.metadata, reality.metadata]
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == []


_FINGERPRINT_QUERIES = {
    "columns": """
        SELECT table_name, column_name, data_type, is_nullable, column_default,
               numeric_precision, numeric_scale, is_identity, identity_generation
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'alembic_version'
    """,
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace
          AND conrelid::regclass::text <> 'alembic_version'
    """,
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'alembic_version'
    """,
}


def _fingerprint(url: str) -> dict[str, set[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return {
            kind: {tuple(row) for row in conn.execute(query).fetchall()}
            for kind, query in _FINGERPRINT_QUERIES.items()
        }


def test_migrated_schema_equals_schema_built_from_models(
    database_url: str, empty_database_url: str
) -> None:
    """Catches what autogenerate does not compare: CHECK constraints and their text."""
    engine = create_engine(db.sync_url(empty_database_url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            backend.metadata.create_all(conn)
            orderbook.metadata.create_all(conn)
            reality.metadata.create_all(conn)
    finally:
        engine.dispose()
    migrated, modelled = _fingerprint(database_url), _fingerprint(empty_database_url)
    for kind in _FINGERPRINT_QUERIES:
        assert migrated[kind] - modelled[kind] == set(), f"{kind} only in the migration"
        assert modelled[kind] - migrated[kind] == set(), f"{kind} only in the models"
    assert len(migrated["constraints"]) > 100


def test_every_revision_declares_its_data_loss_marker() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrating.make_config())
    undeclared = [
        rev.revision
        for rev in script.walk_revisions()
        if not hasattr(rev.module, migrating.DATA_LOSS_MARKER)
    ]
    assert undeclared == []


def test_data_losing_revisions_follow_the_database(
    database_url: str, empty_database_url: str
) -> None:
    assert migrating.data_losing_revisions(None) == ["0003", "0002", "0001"]
    assert migrating.data_losing_revisions(database_url) == ["0003", "0002", "0001"]
    # 0004 only adds an index: stepping back over it loses nothing.
    assert migrating.data_losing_revisions(database_url, "-1") == []
    assert migrating.data_losing_revisions(database_url, "-2") == ["0003"]
    assert migrating.data_losing_revisions(database_url, "0003") == []
    assert migrating.data_losing_revisions(database_url, "0001") == ["0003", "0002"]
    assert migrating.data_losing_revisions(empty_database_url) == []


def test_index_only_revision_downgrades_without_permission(database_url: str) -> None:
    migrating.downgrade(database_url, "0003")
    assert migrating.current(database_url) == "0003"
    with psycopg.connect(database_url) as conn:
        names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes").fetchall()}
    assert "ix_events_status_decided_at_id" not in names
    migrating.upgrade(database_url, "head")
    assert migrating.at_head(database_url)


def test_downgrade_refuses_data_loss_unless_allowed(database_url: str) -> None:
    with pytest.raises(migrating.DataLossError) as caught:
        migrating.downgrade(database_url, "base")
    assert caught.value.revisions == ["0003", "0002", "0001"]
    assert migrating.current(database_url) == "0004"
    assert "accounts" in _public_tables(database_url)


# --- constraints -------------------------------------------------------------------------


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.make_engine(database_url)
    yield engine
    await engine.dispose()


async def _violated_constraint(engine: AsyncEngine, *rows: Any) -> str:
    """Insert the rows in one transaction; return the name of the constraint that refused."""
    async with db.make_sessionmaker(engine)() as session:
        with pytest.raises(IntegrityError) as caught:
            for row in rows:
                session.add(row)
                await session.flush()
        await session.rollback()
    orig = caught.value.orig
    assert isinstance(orig, psycopg.errors.IntegrityError)
    name = orig.diag.constraint_name
    assert name is not None
    return name


async def _add(session: AsyncSession, *rows: Any) -> None:
    session.add_all(rows)
    await session.commit()


def _stock(symbol: str = "ELON", **overrides: Any) -> backend.Stock:
    values: dict[str, Any] = {"symbol": symbol, "name": symbol.title()} | overrides
    return backend.Stock(**values)


async def test_valid_rows_are_accepted_with_server_defaults(engine: AsyncEngine) -> None:
    async with db.make_sessionmaker(engine)() as session:
        user = backend.User(username="alice", password_hash="x")
        await _add(session, _stock(), user)
        account = backend.Account(user_id=user.id, cash=Decimal("1000.00"))
        await _add(session, account)
        stock = await session.get(backend.Stock, "ELON")
        assert stock is not None
        assert (stock.market_weight, stock.reality_weight) == (Decimal("0.6"), Decimal("0.4"))
        assert stock.initial_score == Decimal("50")
        assert (stock.components, stock.aliases) == ([], [])
        assert stock.created_at.utcoffset() is not None
        await session.refresh(account)
        assert (account.reserved, account.collateral) == (Decimal("0"), Decimal("0"))


async def test_negative_cash_is_rejected(engine: AsyncEngine) -> None:
    account = backend.Account(cash=Decimal("-0.01"))
    assert await _violated_constraint(engine, account) == "ck_accounts_cash_non_negative"


async def test_weights_must_sum_to_one(engine: AsyncEngine) -> None:
    stock = _stock(market_weight=Decimal("0.5"), reality_weight=Decimal("0.4"))
    assert await _violated_constraint(engine, stock) == "ck_stocks_weights_sum"


async def test_weight_outside_zero_to_one_is_rejected(engine: AsyncEngine) -> None:
    stock = _stock(market_weight=Decimal("1.2"), reality_weight=Decimal("-0.2"))
    assert await _violated_constraint(engine, stock) in {
        "ck_stocks_market_weight_range",
        "ck_stocks_reality_weight_range",
    }


async def test_prices_outside_zero_to_hundred_are_rejected(engine: AsyncEngine) -> None:
    assert await _violated_constraint(engine, _stock(max_price=Decimal("100.01"))) == (
        "ck_stocks_price_bounds"
    )
    score = backend.Score(symbol="ELON", reality_score=Decimal("50"), final_price=Decimal("-1"))
    assert await _violated_constraint(engine, _stock(), score) == "ck_scores_final_price_range"


async def test_duplicate_event_id_is_rejected(engine: AsyncEngine) -> None:
    first = backend.Event(event_id="evt-1", payload={"a": 1}, status="applied")
    again = backend.Event(event_id="evt-1", payload={"a": 2}, status="pending_review")
    assert await _violated_constraint(engine, first, again) == "uq_events_event_id"


async def test_unknown_event_status_is_rejected(engine: AsyncEngine) -> None:
    event = backend.Event(event_id="evt-2", payload={}, status="approved")
    assert await _violated_constraint(engine, event) == "ck_events_status"


async def test_duplicate_client_order_id_is_rejected_by_the_book(engine: AsyncEngine) -> None:
    def order(order_id: str) -> orderbook.Order:
        return orderbook.Order(
            order_id=order_id,
            account_id=7,
            client_order_id="c-1",
            symbol="ELON",
            side="buy",
            type="limit",
            price_cents=4_250,
            qty=3,
        )

    assert await _violated_constraint(engine, order("o-1"), order("o-2")) == (
        "uq_orders_account_id_client_order_id"
    )


async def test_limit_order_needs_a_price_within_range(engine: AsyncEngine) -> None:
    base: dict[str, Any] = {
        "account_id": 7,
        "symbol": "ELON",
        "side": "sell",
        "type": "limit",
        "qty": 1,
    }
    no_price = orderbook.Order(order_id="o-1", client_order_id="a", **base)
    too_high = orderbook.Order(order_id="o-2", client_order_id="b", price_cents=10_001, **base)
    assert await _violated_constraint(engine, no_price) == "ck_orders_limit_has_price"
    assert await _violated_constraint(engine, too_high) == "ck_orders_price_range"


async def test_duplicate_client_order_id_is_rejected_by_the_backend(engine: AsyncEngine) -> None:
    async with db.make_sessionmaker(engine)() as session:
        account = backend.Account(cash=Decimal("100"))
        await _add(session, _stock(), account)
        account_id = account.id

    def reservation() -> backend.OrderReservation:
        return backend.OrderReservation(
            client_order_id="c-1", account_id=account_id, symbol="ELON", side="buy", qty=1
        )

    assert await _violated_constraint(engine, reservation(), reservation()) == (
        "uq_order_reservations_account_id_client_order_id"
    )


async def test_filled_quantity_cannot_exceed_order_quantity(engine: AsyncEngine) -> None:
    order = orderbook.Order(
        order_id="o-1",
        account_id=1,
        client_order_id="c",
        symbol="ELON",
        side="buy",
        type="market",
        qty=2,
        filled_qty=3,
    )
    assert await _violated_constraint(engine, order) == "ck_orders_filled_within_qty"


async def test_settled_trade_is_unique_per_trade_id(engine: AsyncEngine) -> None:
    async with db.make_sessionmaker(engine)() as session:
        buyer, seller = backend.Account(), backend.Account()
        await _add(session, _stock(), buyer, seller)
        ids = (buyer.id, seller.id)
        await _add(session, settled := _settled(ids))

    assert settled.settled_at is not None
    # A fresh session, as a redelivered MARKET message would get.
    assert await _violated_constraint(engine, _settled(ids)) == "pk_settled_trades"


def _settled(account_ids: tuple[int, int]) -> backend.SettledTrade:
    return backend.SettledTrade(
        trade_id="t-1",
        symbol="ELON",
        buyer_account_id=account_ids[0],
        seller_account_id=account_ids[1],
        buy_order_id="o-b",
        sell_order_id="o-s",
        taker_side="buy",
        price=Decimal("42.50"),
        qty=1,
        executed_at=datetime.now(UTC),
    )


async def test_fresh_databases_are_isolated(database_url: str, pg_server: Any) -> None:
    engine = create_engine(db.sync_url(database_url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (username, password_hash) VALUES ('u', 'h')"))
    finally:
        engine.dispose()
    with psycopg.connect(pg_server.url("em_template")) as conn:
        row = conn.execute("SELECT count(*) FROM users").fetchone()
    assert row == (0,)

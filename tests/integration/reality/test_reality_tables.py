"""Migration 0002 creates exactly the tables em_reality.db.tables declares, and undoes them."""

from __future__ import annotations

from typing import Any

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from em_common import db, migrating
from em_reality.db import tables

REALITY_TABLES = {"reality_outbox", "reality_seen"}


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows.fetchall()}


def _concerns_reality(diff: Any) -> bool:
    return any(name in repr(diff) for name in REALITY_TABLES)


def test_reality_tables_match_the_models(database_url: str) -> None:
    assert _tables(database_url) >= REALITY_TABLES
    engine = create_engine(db.sync_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            diff = compare_metadata(context, tables.metadata)
    finally:
        engine.dispose()
    assert [d for d in diff if _concerns_reality(d)] == []


def test_0002_downgrades_and_upgrades(empty_database_url: str) -> None:
    migrating.upgrade(empty_database_url, "0002")
    assert _tables(empty_database_url) >= REALITY_TABLES
    migrating.downgrade(empty_database_url, "0001", allow_data_loss=True)
    assert not REALITY_TABLES & _tables(empty_database_url)
    assert "stocks" in _tables(empty_database_url)
    migrating.upgrade(empty_database_url, "head")
    assert _tables(empty_database_url) >= REALITY_TABLES

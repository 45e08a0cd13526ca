"""Alembic environment for the one database: both services' tables, one history.

The URL comes from the config attribute `database_url` (set by em_common.migrating), else
`sqlalchemy.url` in alembic.ini, else the DATABASE_URL environment variable. Any of the
usual PostgreSQL URL spellings works; em_common.db normalises it to psycopg 3.
"""

from __future__ import annotations

import logging
import os
import sys
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

try:
    from em_backend.db import tables as backend_tables
except ImportError:  # a plain `alembic` run from a checkout without the packages installed
    _root = Path(__file__).resolve().parents[1]
    for _folder in (
        "services/common",
        "services/backend",
        "services/orderbook",
        "services/reality",
    ):
        sys.path.insert(0, str(_root / _folder))
    from em_backend.db import tables as backend_tables
from em_common import db
from em_orderbook.db import tables as orderbook_tables
from em_reality.db import tables as reality_tables

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_metadata = [backend_tables.metadata, orderbook_tables.metadata, reality_tables.metadata]


def _database_url() -> str:
    url = (
        config.attributes.get("database_url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise RuntimeError("no database URL: set DATABASE_URL or pass one to em_common.migrating")
    return db.sync_url(url)


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_database_url(), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                compare_type=True,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""Database plumbing shared by every service: one URL form, one engine recipe.

Operators hand us whatever URL their platform prints (`postgres://…` from PaaS add-ons,
`postgresql://…` from libpq habits); SQLAlchemy needs the driver spelled out. Normalising in
one place means `DATABASE_URL` can be copied verbatim from anywhere, and Alembic (sync) and
the services (async) reach the database through the same psycopg 3 driver.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from sqlalchemy import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger(__name__)

DRIVER: Final = "postgresql+psycopg"

# Stable constraint names: Alembic can only drop or alter what it can name, and names that
# depend on the order tables were created in would differ between databases.
NAMING_CONVENTION: Final[dict[str, str]] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_POSTGRES_SCHEMES: Final = frozenset({"postgres", "postgresql"})


class DatabaseUrlError(ValueError):
    """The configured URL does not point at PostgreSQL."""


def normalise_url(database_url: str | URL) -> URL:
    """Return the URL with the psycopg 3 driver, whatever driver (if any) it named."""
    url = make_url(database_url) if isinstance(database_url, str) else database_url
    scheme = url.drivername.split("+", 1)[0]
    if scheme not in _POSTGRES_SCHEMES:
        raise DatabaseUrlError(f"not a PostgreSQL URL (scheme {url.drivername!r})")
    return url.set(drivername=DRIVER)


def sync_url(database_url: str | URL) -> str:
    """The URL as a string for sync users (Alembic); psycopg 3 serves sync and async alike."""
    return normalise_url(database_url).render_as_string(hide_password=False)


def libpq_url(database_url: str | URL) -> str:
    """The URL without a driver suffix, for libpq tools (`psql`, `pg_dump`, `psycopg.connect`)."""
    url = normalise_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def make_engine(database_url: str | URL, **kwargs: Any) -> AsyncEngine:
    """Build the async engine; `pool_pre_ping` survives database restarts and failovers."""
    kwargs.setdefault("pool_pre_ping", True)
    url = normalise_url(database_url)
    logger.debug("creating engine", extra={"db_host": url.host, "db_name": url.database})
    return create_async_engine(url, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit, so handlers can answer from them."""
    return async_sessionmaker(engine, expire_on_commit=False)

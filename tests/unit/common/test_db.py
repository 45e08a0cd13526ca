from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from em_common import db


@pytest.mark.parametrize(
    "given",
    [
        "postgres://u:p@h:5433/d",
        "postgresql://u:p@h:5433/d",
        "postgresql+psycopg2://u:p@h:5433/d",
        "postgresql+asyncpg://u:p@h:5433/d",
        "postgresql+psycopg://u:p@h:5433/d",
    ],
)
def test_every_postgres_spelling_becomes_psycopg3(given: str) -> None:
    assert db.sync_url(given) == "postgresql+psycopg://u:p@h:5433/d"


def test_password_and_query_survive_normalising() -> None:
    url = "postgres://app:p%40ss%25w0rd@db.internal/market?sslmode=require"
    assert db.sync_url(url) == (
        "postgresql+psycopg://app:p%40ss%25w0rd@db.internal/market?sslmode=require"
    )
    assert db.normalise_url(url).password == "p@ss%w0rd"


def test_libpq_url_has_no_driver() -> None:
    assert db.libpq_url("postgresql+psycopg://u@h/d") == "postgresql://u@h/d"


@pytest.mark.parametrize("given", ["mysql://u@h/d", "sqlite:///x.db"])
def test_other_databases_are_refused(given: str) -> None:
    with pytest.raises(db.DatabaseUrlError):
        db.normalise_url(given)


def test_make_engine_uses_the_async_psycopg_driver() -> None:
    engine = db.make_engine("postgres://u@h/d")
    assert isinstance(engine, AsyncEngine)
    assert engine.dialect.driver == "psycopg"
    assert engine.url.drivername == "postgresql+psycopg"


def test_naming_convention_covers_every_constraint_kind() -> None:
    assert set(db.NAMING_CONVENTION) == {"ix", "uq", "ck", "fk", "pk"}

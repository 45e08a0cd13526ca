"""pytest fixtures for real PostgreSQL: one server per session, a fresh database per test.

`database_url` is cloned from a template migrated to head once per session, so each test
starts from the real schema at the cost of one `CREATE DATABASE … TEMPLATE`. URLs are
libpq-style (`postgresql://…`); em_common.db normalises them for SQLAlchemy.

Where PostgreSQL cannot run, tests skip with the reason, except under CI=true, where a
missing prerequisite fails the run: CI must never pass by skipping.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

from em_cli.devstack import postgres
from em_common import migrating
from tests.support import prereq

TEMPLATE_DB = "em_template"


def _missing(reason: str) -> NoReturn:
    prereq.missing(f"PostgreSQL not available: {reason}")


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.EmbeddedPostgres]:
    """The session's server: `.host`, `.port`, `.superuser_url`, `.url(db)`."""
    try:
        server = postgres.start()
    except postgres.PrerequisiteMissing as exc:
        _missing(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: postgres.EmbeddedPostgres) -> str:
    """Name of a database migrated to head, to clone from; built once per session."""
    url = pg_server.create_database(TEMPLATE_DB)
    migrating.upgrade(url, "head")
    return TEMPLATE_DB


@pytest.fixture
def database_url(pg_server: postgres.EmbeddedPostgres, pg_template: str) -> Iterator[str]:
    """A fresh database at the migration head, dropped after the test."""
    url = pg_server.create_database(template=pg_template)
    yield url
    pg_server.drop_database(_database_name(url))


@pytest.fixture
def empty_database_url(pg_server: postgres.EmbeddedPostgres) -> Iterator[str]:
    """A fresh database with no tables at all (for migration tests)."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(_database_name(url))

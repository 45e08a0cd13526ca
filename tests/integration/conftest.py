from __future__ import annotations

from tests.support.pg_fixtures import (  # noqa: F401 - fixtures, found by name
    database_url,
    empty_database_url,
    pg_server,
    pg_template,
)

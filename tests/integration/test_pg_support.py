"""The PostgreSQL test helper itself: the CI rule, a missing wheel, the plain Alembic CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from em_cli.devstack import postgres
from em_common import migrating
from tests.support import pg_fixtures

REPO = Path(__file__).resolve().parents[2]


def test_missing_prerequisite_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no wheel"):
        pg_fixtures._missing("no wheel")


def test_missing_prerequisite_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no wheel"):
        pg_fixtures._missing("no wheel")


def test_a_bin_dir_without_binaries_is_a_missing_prerequisite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EM_PG_BINDIR", str(tmp_path))
    with pytest.raises(postgres.PrerequisiteMissing, match="no initdb/postgres"):
        postgres.start()


def test_server_answers_over_tcp_in_utc(pg_server: postgres.EmbeddedPostgres) -> None:
    assert pg_server.host == "127.0.0.1"
    assert pg_server.port > 0
    with psycopg.connect(pg_server.superuser_url) as conn:
        row = conn.execute("SELECT current_setting('TimeZone'), current_user").fetchone()
    assert row == ("UTC", postgres.SUPERUSER)


def test_plain_alembic_cli_reads_database_url(empty_database_url: str) -> None:
    """The runbook's `alembic upgrade head` / `alembic downgrade -1` still work from a checkout,
    with the PaaS-style `postgres://` spelling and no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["DATABASE_URL"] = empty_database_url.replace("postgresql://", "postgres://", 1)

    def alembic(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-W", "error", "-m", "alembic", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    alembic("upgrade", "head")
    assert migrating.current(empty_database_url) == migrating.heads()[0]
    assert "(head)" in alembic("current")
    alembic("downgrade", "base")
    assert migrating.current(empty_database_url) is None

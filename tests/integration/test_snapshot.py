"""`em snapshot export|import` against real PostgreSQL: a realistic market state survives the
round trip row for row, and every refusal (altered file, other revision, busy target) writes
nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from em_cli import main as em_main
from em_cli import snapshot, snapshot_db
from em_cli.devstack import postgres
from em_common import migrating

STATE_SQL = """
INSERT INTO stocks (symbol, name, description, aliases, initial_score)
VALUES ('ACME', 'Acme Corp', 'Roadrunner traps', '{acme,"acme corp"}', 42.50),
       ('BOLT', 'Bolt Inc', '', '{}', 50);
INSERT INTO stocks (symbol, name, kind, components)
VALUES ('IDX', 'Tool Index', 'index',
        '[{"symbol": "ACME", "weight": 0.6}, {"symbol": "BOLT", "weight": 0.4}]');
INSERT INTO scores (symbol, reality_score, market_price, final_price, confidence)
VALUES ('ACME', 61.25, 58.00, 59.95, 0.8125), ('BOLT', 50, NULL, 50, 0);
INSERT INTO score_history (symbol, ts, final_price, reality_score, market_price)
VALUES ('ACME', '2026-11-29 10:00:00.123456+00', 59.95, 61.25, 58.00);
INSERT INTO events (event_id, source, payload, status, decided_at)
VALUES ('ev-1', 'reuters', '{"title": "Acme ships ✓", "delta": 1.5, "tags": ["a", null]}',
        'applied', '2026-11-29 10:00:01+00');
INSERT INTO score_changes (symbol, event_id, old_score, new_score, delta, source)
VALUES ('ACME', 'ev-1', 60.00, 61.25, 1.25, 'reality');
INSERT INTO llm_calls (event_id, model, input_hash, output, valid, latency_ms)
VALUES ('ev-1', 'gpt', 'abc', '{"score": 0.1}', true, 420);
INSERT INTO users (username, password_hash) VALUES ('alice', '$argon2id$x'), ('bob', '$argon2id$y');
INSERT INTO accounts (user_id, cash, reserved)
SELECT id, 900.00, 100.00 FROM users WHERE username = 'alice';
INSERT INTO accounts (user_id, cash) SELECT id, 1000.00 FROM users WHERE username = 'bob';
INSERT INTO ledger_entries (txn_id, account_id, bucket, kind, amount, ref)
SELECT 'grant-1', id, 'cash', 'grant', -2000.00, NULL FROM accounts WHERE system_key = 'issuer';
INSERT INTO ledger_entries (txn_id, account_id, bucket, kind, amount, ref)
SELECT 'grant-1', a.id, 'cash', 'grant', 1000.00, u.username
FROM accounts a JOIN users u ON u.id = a.user_id;
INSERT INTO positions (account_id, symbol, quantity, avg_cost, cost_basis)
SELECT a.id, 'ACME', 3, 33.333333, 100.00 FROM accounts a JOIN users u ON u.id = a.user_id
WHERE u.username = 'bob';
INSERT INTO order_reservations (order_id, client_order_id, account_id, symbol, side, price, qty,
                                reserved, status)
SELECT 'o-1', 'c-1', a.id, 'ACME', 'buy', 50.00, 2, 100.00, 'open'
FROM accounts a JOIN users u ON u.id = a.user_id WHERE u.username = 'alice';
INSERT INTO orders (order_id, account_id, client_order_id, symbol, side, type, price_cents, qty)
VALUES ('o-1', 2, 'c-1', 'ACME', 'buy', 'limit', 5000, 2),
       ('o-2', 3, 'c-2', 'ACME', 'sell', 'limit', 4900, 1);
INSERT INTO trades (trade_id, symbol, price_cents, qty, maker_order_id, taker_order_id,
                    maker_account_id, taker_account_id, taker_side)
VALUES ('t-1', 'ACME', 5000, 1, 'o-1', 'o-2', 2, 3, 'sell');
INSERT INTO orderbook_journal (shard, payload) VALUES ('0', '{"op": "add", "order": "o-1"}');
INSERT INTO reality_outbox (event_id, payload) VALUES ('ev-1', '{"symbol": "ACME"}');
INSERT INTO reality_seen (key, source_id) VALUES ('k1', 'reuters');
"""


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every snapshot table's rows, ordered by primary key."""
    with psycopg.connect(url) as conn:
        out = {}
        for table in snapshot_db.catalogue(conn):
            order = sql.SQL(", ").join(sql.Identifier(c) for c in table.primary_key)
            query = sql.SQL("SELECT * FROM {} ORDER BY {}").format(
                sql.Identifier(table.name), order
            )
            out[table.name] = conn.execute(query).fetchall()
    return out


@pytest.fixture
def target_url(pg_server: postgres.EmbeddedPostgres, pg_template: str) -> Iterator[str]:
    """A second fresh database at the migration head: where snapshots are imported."""
    url = pg_server.create_database(template=pg_template)
    yield url
    pg_server.drop_database(urlsplit(url).path.lstrip("/"))


@pytest.fixture
def source_url(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        conn.execute(STATE_SQL)
    return database_url


def _export(monkeypatch: pytest.MonkeyPatch, url: str, out: Path) -> dict[str, Any]:
    monkeypatch.setenv("DATABASE_URL", url)
    assert em_main.main(["snapshot", "export", "--out", str(out)]) == 0
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def _import(monkeypatch: pytest.MonkeyPatch, url: str, file: Path, *extra: str) -> int:
    monkeypatch.setenv("DATABASE_URL", url)
    return snapshot.run(["import", str(file), *extra])


def test_round_trip_is_exact_and_sequences_move_on(
    source_url: str, target_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "snap.json"
    document = _export(monkeypatch, source_url, file)
    assert document["format"] == "everything-market-snapshot"
    assert document["version"] == 1
    assert document["alembic_revision"] == migrating.heads()[0]
    assert "alembic_version" not in document["tables"]
    assert document["tables"]["stocks"]["rows"][0][0] == "ACME"
    assert snapshot.digest(document) == document["sha256"]

    assert _import(monkeypatch, target_url, file) == 0
    source, target = _dump(source_url), _dump(target_url)
    assert source == target
    assert sum(len(rows) for rows in target.values()) >= 20

    with psycopg.connect(target_url) as conn:
        (user_id,) = conn.execute(
            "INSERT INTO users (username, password_hash) VALUES ('carol', 'h') RETURNING id"
        ).fetchone() or (None,)
        (entry_id,) = conn.execute(
            "INSERT INTO ledger_entries (txn_id, account_id, bucket, kind, amount) "
            "VALUES ('t', 1, 'cash', 'grant', 1) RETURNING id"
        ).fetchone() or (None,)
        (seq,) = conn.execute(
            "INSERT INTO orderbook_journal (shard, payload) VALUES ('0', '{}') RETURNING seq"
        ).fetchone() or (None,)
    assert user_id == max(row[0] for row in source["users"]) + 1
    assert entry_id == max(row[0] for row in source["ledger_entries"]) + 1
    assert seq == 2


def test_export_is_repeatable_and_stdout_works(
    source_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = _export(monkeypatch, source_url, tmp_path / "a.json")
    second = _export(monkeypatch, source_url, tmp_path / "b.json")
    assert json.dumps(first["tables"]) == json.dumps(second["tables"])
    capsys.readouterr()
    assert snapshot.run(["export", "--out", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["tables"] == first["tables"]
    assert source_url not in captured.out + captured.err


def test_default_file_name_is_utc_timestamped(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert snapshot.run(["export"]) == 0
    [made] = list(tmp_path.glob("snapshot_*.json"))
    assert len(made.stem) == len("snapshot_YYYYMMDD_HHMMSS")
    assert snapshot.load(made)["tables"]["accounts"]["rows"][0][-1] == "issuer"


def test_tampered_file_is_refused_and_nothing_written(
    source_url: str,
    target_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "snap.json"
    document = _export(monkeypatch, source_url, file)
    document["tables"]["accounts"]["rows"][1][2] = "1000000.00"
    file.write_text(json.dumps(document))
    before = _dump(target_url)
    capsys.readouterr()
    assert _import(monkeypatch, target_url, file) == 2
    err = capsys.readouterr().err
    assert "sha256" in err and err.count("\n") == 1
    assert _dump(target_url) == before


def test_other_revision_is_refused_naming_both(
    source_url: str,
    target_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "snap.json"
    head = _export(monkeypatch, source_url, file)["alembic_revision"]
    migrating.downgrade(target_url, "0003")
    before = _dump(target_url)
    capsys.readouterr()
    assert _import(monkeypatch, target_url, file) == 2
    err = capsys.readouterr().err
    assert head in err and "0003" in err and f"em migrate upgrade {head}" in err
    assert _dump(target_url) == before


def test_busy_target_needs_replace(
    source_url: str,
    target_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "snap.json"
    _export(monkeypatch, source_url, file)
    with psycopg.connect(target_url) as conn:
        conn.execute("INSERT INTO users (username, password_hash) VALUES ('mallory', 'h')")
        conn.execute("INSERT INTO stocks (symbol, name) VALUES ('ZZZ', 'Other')")
    before = _dump(target_url)
    capsys.readouterr()
    assert _import(monkeypatch, target_url, file) == 2
    err = capsys.readouterr().err
    assert "--replace" in err and "users (1 rows)" in err
    assert _dump(target_url) == before

    assert _import(monkeypatch, target_url, file, "--replace") == 0
    assert "imported" in capsys.readouterr().out
    assert _dump(target_url) == _dump(source_url)


def test_missing_database_url_is_named_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "changeme")
    assert em_main.main(["snapshot", "export", "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "DATABASE_URL" in err and "changeme" not in err
    assert not (tmp_path / "x.json").exists()


def test_export_reads_in_one_repeatable_read_transaction(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: set[tuple[str, str, str]] = set()
    real = snapshot_db.read_rows

    def spy(conn: psycopg.Connection[Any], table: snapshot_db.Table) -> list[list[Any]]:
        iso = conn.execute("SHOW transaction_isolation").fetchone()
        ro = conn.execute("SHOW transaction_read_only").fetchone()
        began = conn.execute("SELECT transaction_timestamp()::text").fetchone()
        assert iso and ro and began
        seen.add((str(iso[0]), str(ro[0]), str(began[0])))
        return real(conn, table)

    monkeypatch.setattr(snapshot_db, "read_rows", spy)
    _export(monkeypatch, database_url, tmp_path / "s.json")
    [(iso, ro, _)] = seen  # one transaction start for every table
    assert (iso, ro) == ("repeatable read", "on")

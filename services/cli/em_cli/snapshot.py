"""`em snapshot export|import`: the market's state as one checksummed JSON document.

Sits next to pg_dump in the runbook's backup and disaster-recovery steps: readable, diffable,
and checked (format, version, sha256, alembic revision) before a single row is written.

Export reads every table except alembic_version inside one REPEATABLE READ READ ONLY
transaction, so the snapshot is consistent while the system keeps trading. Import refuses a
database holding market data (any row beyond the migrations' seeded `issuer` account) unless
--replace; either way it empties the snapshot's tables (TRUNCATE … RESTART IDENTITY CASCADE),
inserts every row in foreign-key order and moves each identity sequence past the highest id,
all in one transaction.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from em_cli import snapshot_db
from em_common import db, errors, settings

logger = logging.getLogger(__name__)

FORMAT = "everything-market-snapshot"
VERSION = 1
EXIT_REFUSED = 2


class SnapshotError(errors.EmError):
    """The snapshot or the target database is not fit for the requested operation."""


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if settings.is_placeholder(url):
        raise errors.ConfigError("DATABASE_URL is missing or a placeholder")
    try:
        return db.libpq_url(url)
    except (db.DatabaseUrlError, ValueError):
        raise errors.ConfigError("DATABASE_URL is not a PostgreSQL URL") from None


def _connect(url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, options="-c timezone=UTC")
    except psycopg.OperationalError:
        # libpq's message can echo the host and user; never the URL itself.
        raise SnapshotError("cannot connect to the database named by DATABASE_URL") from None


def digest(document: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything but the `sha256` field."""
    body = {k: v for k, v in document.items() if k != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build(url: str) -> dict[str, Any]:
    with _connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            revision = snapshot_db.revision(conn)
            if revision is None:
                raise SnapshotError("the database is not migrated (no alembic_version)")
            tables = {
                t.name: {"columns": t.columns, "rows": snapshot_db.read_rows(conn, t)}
                for t in snapshot_db.catalogue(conn)
            }
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "alembic_revision": revision,
        "tables": tables,
    }
    document["sha256"] = digest(document)
    return document


def _export(out: str) -> int:
    document = build(_database_url())
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
    rows = sum(len(t["rows"]) for t in document["tables"].values())
    if out == "-":
        sys.stdout.write(text)
        summary = f"em snapshot: exported {len(document['tables'])} tables, {rows} rows"
        print(summary, file=sys.stderr)
        return 0
    path = Path(out or dt.datetime.now(dt.UTC).strftime("snapshot_%Y%m%d_%H%M%S.json"))
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    print(f"em snapshot: exported {len(document['tables'])} tables, {rows} rows to {path}")
    return 0


def load(path: Path) -> dict[str, Any]:
    """Read and verify a snapshot file; SnapshotError says what is wrong with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"cannot read {path}: {exc.__class__.__name__}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f"{path} is not an {FORMAT} file")
    if document.get("version") != VERSION:
        raise SnapshotError(
            f"{path} has snapshot version {document.get('version')!r}; this em reads {VERSION}"
        )
    if document.get("sha256") != digest(document):
        raise SnapshotError(f"{path} fails its sha256 check: the file was altered or truncated")
    if not isinstance(document.get("tables"), dict):
        raise SnapshotError(f"{path} has no tables section")
    return document


def _check_target(
    conn: psycopg.Connection[Any], document: dict[str, Any], replace: bool
) -> list[snapshot_db.Table]:
    want, have = document["alembic_revision"], snapshot_db.revision(conn)
    if have != want:
        raise SnapshotError(
            f"the snapshot is at alembic revision {want} but the database is at "
            f"{have or 'base (not migrated)'}; run `em migrate upgrade {want}` first"
        )
    tables = snapshot_db.catalogue(conn)
    names = {t.name: t for t in tables}
    snap: dict[str, Any] = document["tables"]
    if set(snap) != set(names):
        raise SnapshotError(
            f"the snapshot's tables differ from the database's: {sorted(set(snap) ^ set(names))}"
        )
    for name, body in snap.items():
        if body.get("columns") != names[name].columns:
            raise SnapshotError(f"table {name}: the snapshot's columns differ from the database's")
    if not replace:
        busy = snapshot_db.count_unseeded(conn, names)
        if busy:
            listed = ", ".join(f"{n} ({c} rows)" for n, c in busy.items())
            raise SnapshotError(
                f"the database already holds market data: {listed}; use --replace to overwrite it"
            )
    return tables


def restore(url: str, document: dict[str, Any], *, replace: bool) -> int:
    """Write the snapshot in one transaction; returns the number of rows inserted."""
    total = 0
    with _connect(url) as conn, conn.transaction():
        tables = _check_target(conn, document, replace)
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(t.name) for t in tables)
            )
        )
        for table in tables:
            rows = document["tables"][table.name]["rows"]
            snapshot_db.write_rows(conn, table, rows)
            total += len(rows)
        snapshot_db.reset_sequences(conn, tables)
    return total


def _import(file: str, replace: bool) -> int:
    document = load(Path(file))
    url = _database_url()
    rows = restore(url, document, replace=replace)
    print(
        f"em snapshot: imported {len(document['tables'])} tables, {rows} rows "
        f"at revision {document['alembic_revision']}"
    )
    return 0


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="em snapshot", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    exp = sub.add_parser("export", help="write the database's state to a JSON snapshot")
    exp.add_argument(
        "--out", default="", help="file (default snapshot_YYYYMMDD_HHMMSS.json, UTC); - = stdout"
    )
    imp = sub.add_parser("import", help="load a JSON snapshot into a migrated database")
    imp.add_argument("file")
    imp.add_argument(
        "--replace", action="store_true", help="overwrite a database that holds market data"
    )
    args = parser.parse_args(argv)
    try:
        if args.action == "export":
            return _export(args.out)
        return _import(args.file, args.replace)
    except SnapshotError as exc:
        print(f"em snapshot: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except psycopg.Error as exc:
        # The server's message names tables and values, never the connection string.
        print(f"em snapshot: database error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1

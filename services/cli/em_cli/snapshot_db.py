"""The database side of `em snapshot`: the catalogue, one consistent read, one atomic write.

Tables and their foreign-key order come from the database's own catalogue, not from the
services' SQLAlchemy metadata: a snapshot describes the schema the database is actually at
(its alembic revision), which may be older than the code's models.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

SKIPPED_TABLES = frozenset({"alembic_version"})

# Rows the migrations themselves insert (0003: the `issuer` system account). A database whose
# only rows are these counts as empty for `em snapshot import` without --replace.
SEEDED_ROWS: dict[str, str] = {"accounts": "system_key IS NOT NULL"}

Row = list[Any]


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[str]
    types: list[str]  # pg_catalog type names (udt_name), e.g. numeric, _text, bytea
    primary_key: list[str]


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows if name not in SKIPPED_TABLES]


def _dependencies(conn: psycopg.Connection[Any]) -> dict[str, set[str]]:
    rows = conn.execute(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c "
        "WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace"
    ).fetchall()
    deps: dict[str, set[str]] = {}
    for child, parent in rows:
        if child != parent:
            deps.setdefault(child.strip('"'), set()).add(parent.strip('"'))
    return deps


def _fk_order(names: list[str], deps: dict[str, set[str]]) -> list[str]:
    """Parents before children; ties alphabetical so the order is stable."""
    done: list[str] = []
    left = sorted(names)
    while left:
        ready = [n for n in left if not (deps.get(n, set()) & set(left))]
        if not ready:  # a cycle: keep going, the import defers what it can
            ready = left[:1]
        done.extend(ready)
        left = [n for n in left if n not in ready]
    return done


def catalogue(conn: psycopg.Connection[Any]) -> list[Table]:
    """Every snapshot table of the public schema in foreign-key order."""
    names = _tables(conn)
    out = []
    for name in _fk_order(names, _dependencies(conn)):
        cols = conn.execute(
            "SELECT column_name, udt_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
            (name,),
        ).fetchall()
        pk = conn.execute(
            "SELECT a.attname FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            (f'public."{name}"',),
        ).fetchall()
        out.append(Table(name, [c for c, _ in cols], [t for _, t in cols], [c for (c,) in pk]))
    return out


def revision(conn: psycopg.Connection[Any]) -> str | None:
    exists = conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()
    if exists is None or exists[0] is None:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def encode(value: Any) -> Any:
    """A database value as JSON: exact decimals and times as strings, bytes as base64."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value.total_seconds())
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def read_rows(conn: psycopg.Connection[Any], table: Table) -> list[Row]:
    order = table.primary_key or table.columns
    query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in table.columns),
        sql.Identifier(table.name),
        sql.SQL(", ").join(sql.Identifier(c) for c in order),
    )
    return [[encode(v) for v in row] for row in conn.execute(query)]


def count_unseeded(conn: psycopg.Connection[Any], names: Iterable[str]) -> dict[str, int]:
    """Rows per table beyond what the migrations seed; only non-zero counts."""
    found = {}
    for name in names:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
        if name in SEEDED_ROWS:
            query += sql.SQL(" WHERE NOT ({})").format(sql.SQL(SEEDED_ROWS[name]))
        row = conn.execute(query).fetchone()
        if row is not None and row[0]:
            found[name] = int(row[0])
    return found


def _as_input(value: Any, udt: str) -> Any:
    """The JSON value json_populate_recordset turns into the column's type."""
    if value is None:
        return None
    if udt == "bytea":
        return "\\x" + base64.b64decode(value).hex()
    if udt == "_bytea":
        return ["\\x" + base64.b64decode(v).hex() if v is not None else None for v in value]
    return value


def write_rows(conn: psycopg.Connection[Any], table: Table, rows: list[Row]) -> None:
    """Insert through json_populate_recordset: PostgreSQL parses each value by its own type."""
    if not rows:
        return
    records = [
        {c: _as_input(v, t) for c, t, v in zip(table.columns, table.types, row, strict=True)}
        for row in rows
    ]
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)
    query = sql.SQL(
        "INSERT INTO {t} ({cols}) OVERRIDING SYSTEM VALUE "
        "SELECT {cols} FROM json_populate_recordset(NULL::{t}, %s::json)"
    ).format(t=sql.Identifier(table.name), cols=cols)
    conn.execute(query, (json.dumps(records),))


def reset_sequences(conn: psycopg.Connection[Any], tables: Iterable[Table]) -> None:
    """Move every identity/serial sequence past the highest imported value."""
    for table in tables:
        for column in table.columns:
            row = conn.execute(
                "SELECT pg_get_serial_sequence(%s, %s)",
                (sql.Identifier(table.name).as_string(conn), column),
            ).fetchone()
            if row is None or row[0] is None:
                continue
            query = sql.SQL(
                "SELECT setval(%s, coalesce(max({c}), 1), max({c}) IS NOT NULL) FROM {t}"
            ).format(c=sql.Identifier(column), t=sql.Identifier(table.name))
            conn.execute(query, (row[0],))

"""Opening the DuckDB files with clear errors when another process holds them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from prodlens.errors import DatabaseLocked, UserError

_PID = re.compile(r"PID (\d+)")


def lock_error(path: Path, exc: BaseException) -> DatabaseLocked:
    """Turn DuckDB's lock failure into one line that names the file, the holder and the fix."""
    match = _PID.search(str(exc))
    holder = f"process {match.group(1)}" if match else "another process"
    return DatabaseLocked(
        f"database {path} is locked by {holder}; wait for it to finish (or stop it) and run again"
    )


def is_lock_error(exc: BaseException) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open `path` in UTC, translating lock and missing-file failures into UserErrors."""
    if read_only and not path.exists():
        raise UserError(
            f"no ProdLens database at {path}; load data first (prodlens load traces PATH, then prodlens build)"
        )
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if is_lock_error(exc):
            raise lock_error(path, exc) from None
        raise UserError(f"cannot open database {path}: {exc}") from None
    con.execute("set TimeZone = 'UTC'")
    return con


def tables_in(con: duckdb.DuckDBPyConnection, schema: str, catalog: str | None = None) -> list[str]:
    """The tables and views of `schema` (in `catalog`, default: the connection's own database), sorted."""
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = ? and table_catalog = coalesce(?, current_database()) order by 1",
        [schema, catalog],
    ).fetchall()
    return [name for (name,) in rows]


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str, catalog: str | None = None) -> bool:
    """True when `schema.table` (a table or view) exists."""
    return table in tables_in(con, schema, catalog)


def column_names(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """The columns of `schema.table` in table order; empty when the table does not exist."""
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? and table_catalog = current_database() "
        "order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [name for (name,) in rows]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """The single value of a one-row, one-column query (count(*), max(...), a DELETE's row count)."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        raise RuntimeError(f"query returned no row: {sql[:80]}")
    return row[0]

"""Opening the DuckDB files with clear errors when another process holds them."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from loaders.errors import DatabaseLocked, UserError

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

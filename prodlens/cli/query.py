"""`prodlens query "SQL" [--format table|csv|json] [--allow-files DIR ...]`: read-only SQL against the
published marts.

The query sees the published database and nothing else: DuckDB's external access is off and its
configuration locked, so ATTACH, COPY, EXPORT, extensions and file readers are refused, and only SELECT
(and EXPLAIN) statements run. `--allow-files DIR` lets file readers (read_csv, read_parquet, glob, ...)
read under DIR; statements that write stay refused, and DIR may not hold the home's private files (the
working database, hash.key, dlt's state).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.warehouse import connect


def register(commands: argparse._SubParsersAction) -> None:
    query = commands.add_parser(
        "query", help="run read-only SQL against the marts (schema marts is on the search path)"
    )
    query.add_argument("sql", metavar="SQL")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.add_argument(
        "--allow-files",
        metavar="DIR",
        type=Path,
        action="append",
        default=[],
        help="let file readers (read_csv, read_parquet, glob) read under DIR; repeatable; never writes",
    )
    query.set_defaults(handler=_query)


#: The statements `prodlens query` runs: reading ones only (DESCRIBE, SUMMARIZE, SHOW and FROM-first
#: queries are SELECTs to DuckDB).
READING_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
_REFUSED = (
    "query refused: prodlens query reads the published marts only (files, ATTACH, COPY, EXPORT and "
    "extensions are off); open the published file with duckdb yourself for anything else"
)


def private_paths(home: Home) -> list[Path]:
    """Files and folders of the home that no query may read: the working database, the e-mail hash key and
    dlt's state."""
    from prodlens.ingest.identity import KEY_FILE

    return [home.warehouse, home.root / KEY_FILE, home.dlt_dir]


def allowed_directories(home: Home, folders: Sequence[Path]) -> list[str]:
    """`folders` as DuckDB allowed_directories entries; a UserError for a folder that does not exist or
    that holds one of the home's private files."""
    allowed = []
    for folder in folders:
        resolved = folder.expanduser().resolve()
        if not resolved.is_dir():
            raise UserError(f"--allow-files {folder}: not a directory")
        for private in private_paths(home):
            if private.resolve().is_relative_to(resolved):
                raise UserError(
                    f"--allow-files {folder}: it holds {private.name}, which prodlens query never reads; "
                    "allow a folder beside it (for example PRODLENS_HOME/parquet)"
                )
        allowed.append(f"{resolved}/")
    return allowed


def run_query(
    home: Home, sql: str, allow_files: Sequence[Path] = ()
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and rows of `sql` run read-only on the published database; `allow_files` are folders file
    readers may read."""
    directories = allowed_directories(home, allow_files)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise UserError(f"query failed: {str(exc).splitlines()[0]}") from None
    if any(statement.type not in READING_STATEMENTS for statement in statements):
        raise UserError(_REFUSED)
    con = connect(home.published, read_only=True)
    try:
        con.execute("set search_path = 'marts,main'")
        if directories:
            con.execute("set allowed_directories = ?", [directories])
        # The published marts and nothing else: no file readers or writers (COPY, EXPORT, read_csv, glob)
        # outside the allowed folders, no ATTACH, no extensions; and the query cannot switch them back on.
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
        cursor = con.execute(sql)
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()
    except duckdb.PermissionException:
        raise UserError(_REFUSED) from None
    except duckdb.Error as exc:
        raise UserError(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _cell(value: Any) -> str:
    value = jsonable(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def format_table(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _query(args: argparse.Namespace) -> int:
    columns, rows = run_query(Home.from_env(), args.sql, args.allow_files)
    if args.format == "json":
        json.dump([dict(zip(columns, (jsonable(v) for v in row), strict=True)) for row in rows], sys.stdout)
        sys.stdout.write("\n")
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in row] for row in rows])
    else:
        print(format_table(columns, rows))
    return 0

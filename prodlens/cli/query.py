"""`prodlens query "SQL" [--format table|csv|json]`: read-only SQL against the published marts."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import json
import math
import sys
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
    query.set_defaults(handler=_query)


def run_query(home: Home, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and rows of `sql` run read-only on the published database."""
    con = connect(home.published, read_only=True)
    try:
        con.execute("set search_path = 'marts,main'")
        # The published marts and nothing else: no file readers or writers (COPY, EXPORT, read_csv, glob),
        # no ATTACH, no extensions; and the query cannot switch them back on.
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
        cursor = con.execute(sql)
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()
    except duckdb.PermissionException:
        raise UserError(
            "query refused: prodlens query reads the published marts only (files, ATTACH, COPY, EXPORT and "
            "extensions are off); open the published file with duckdb yourself for anything else"
        ) from None
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
    columns, rows = run_query(Home.from_env(), args.sql)
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

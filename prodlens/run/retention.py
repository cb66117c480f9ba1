"""Retention: with `retention_days` set, delete raw trace rows, the incremental request tables' rows
(staging, intermediate) and session-level mart rows older than the horizon. Daily, hourly and ROI
aggregates are kept permanently.

The horizon is midnight UTC, `retention_days` days before today, so a day is purged whole and no
daily or hourly bucket is ever half purged. The loader skips records older than the horizon and
counts them as `expired`, so a purged record is not loaded again from an old file.

Aggregates survive a purge because the analytics marts are incremental: they reprocess only their
look-back window (dbt var `analytics_lookback_days`) and trailing windows of `roi_baseline_window_days`
back from it. `retention_days` must therefore exceed the sum of the two; the configuration is refused
otherwise. The deletes run in one transaction: a crash leaves all of them done or none.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import yaml

from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.project import project_dir
from prodlens.run.marts import RAW_TABLES, REQUEST_TABLES, ROW_LEVEL_MARTS
from prodlens.warehouse import connect, scalar

# One row per purge that deleted rows. Its existence tells the aggregate marts (macro
# refuse_full_refresh_after_purge) that a full refresh would recompute purged days from nothing.
PURGES_TABLE = "raw.retention_purges"
# The vars that bound how far back an incremental run recomputes aggregates, and their defaults.
WINDOW_VARS = {"analytics_lookback_days": 3, "roi_baseline_window_days": 30}


def horizon(retention_days: int, now: datetime | None = None) -> datetime:
    """Rows dated before this instant are purged: midnight UTC `retention_days` days ago."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=retention_days), time(0), tzinfo=UTC)


def minimum_retention_days(project: Path | None = None) -> int:
    """The smallest retention_days that cannot change an aggregate the next build recomputes."""
    path = (project or project_dir()) / "dbt_project.yml"
    try:
        project_vars = (yaml.safe_load(path.read_text()) or {}).get("vars") or {}
    except (OSError, yaml.YAMLError):
        project_vars = {}
    total = 0
    for name, default in WINDOW_VARS.items():
        value = project_vars.get(name, default)
        total += int(value) if isinstance(value, int | float | str) and str(value).isdigit() else default
    return total + 1


def check_retention(retention_days: int) -> None:
    if retention_days <= 0:
        return
    minimum = minimum_retention_days()
    if retention_days < minimum:
        raise UserError(
            f"retention_days = {retention_days} is too short: aggregates recompute up to {minimum - 1} "
            f"days back (dbt vars {' + '.join(WINDOW_VARS)}), so a purge that recent would change them; "
            f"use at least {minimum}"
        )


def purge(home: Home, before: datetime) -> dict[str, int]:
    """Delete raw and row-level mart rows dated before `before`; returns deleted rows per table."""
    targets = {
        **RAW_TABLES,
        **REQUEST_TABLES,
        **{f"marts.{name}": column for name, column in ROW_LEVEL_MARTS.items()},
    }
    deleted: dict[str, int] = {}
    con = connect(home.warehouse)
    try:
        present = {
            (f"{schema}.{table}", column)
            for schema, table, column in con.execute(
                "select c.table_schema, c.table_name, c.column_name from information_schema.columns as c "
                "inner join information_schema.tables as t using (table_catalog, table_schema, table_name) "
                "where t.table_type = 'BASE TABLE' and c.table_catalog = current_database()"
            ).fetchall()
        }
        con.execute("begin transaction")
        for table, column in targets.items():
            if (table, column) in present:
                schema, name = table.split(".")
                count = scalar(con, f'delete from "{schema}"."{name}" where "{column}" < ?', [before])
                deleted[table] = int(count)
        if any(deleted.values()):
            # The aggregate marts refuse a --full-refresh once this table exists (see PURGES_TABLE).
            con.execute(
                f"create table if not exists {PURGES_TABLE} "
                "(purged_at timestamptz, horizon timestamptz, deleted_rows json)"
            )
            con.execute(
                f"insert into {PURGES_TABLE} values (now(), ?, ?)",
                [before, json.dumps(deleted, sort_keys=True)],
            )
        con.execute("commit")
    finally:
        con.close()
    return deleted

"""The `etl_runs` table: one row per load or build run, written to the working database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from prodlens.home import Home
from prodlens.warehouse import connect

DDL = """
create schema if not exists raw;
create sequence if not exists raw.etl_runs_id;
create table if not exists raw.etl_runs (
    id bigint primary key default nextval('raw.etl_runs_id'),
    job varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    row_count bigint default 0,
    details json,
    status varchar not null
);
"""


def now() -> datetime:
    return datetime.now(UTC)


def record_run(
    home: Home,
    *,
    job: str,
    started_at: datetime,
    row_count: int,
    details: dict[str, Any],
    status: str,
    finished_at: datetime | None = None,
) -> None:
    """Append one run to raw.etl_runs and to PRODLENS_HOME/runs.log (JSON lines)."""
    finished = finished_at or now()
    con = connect(home.warehouse)
    try:
        con.execute(DDL)
        con.execute(
            "insert into raw.etl_runs (job, started_at, finished_at, row_count, details, status) "
            "values (?, ?, ?, ?, ?, ?)",
            [job, started_at, finished, row_count, json.dumps(details, default=str), status],
        )
    finally:
        con.close()
    entry = {
        "job": job,
        "started_at": started_at.isoformat(),
        "finished_at": finished.isoformat(),
        "row_count": row_count,
        "status": status,
        "details": details,
    }
    with open(home.runs_log, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, default=str) + "\n")

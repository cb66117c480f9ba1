"""The run record: one row per load or build run in the working database's `raw.etl_runs`, and one JSON
line in PRODLENS_HOME/runs.log.

runs.log survives a full disk and a locked database: the home keeps a small reserve file
(`.runs.log.reserve`), and when an append fails for lack of space the reserve is given up for that line
and made again once space is back. So a run that fails because the disk is full still leaves its line.
"""

from __future__ import annotations

import errno
import json
import os
from datetime import UTC, datetime
from pathlib import Path
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


RESERVE_FILE = ".runs.log.reserve"
RESERVE_BYTES = 256 * 1024  # thousands of runs.log lines


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
    """Append one run to raw.etl_runs and to PRODLENS_HOME/runs.log (JSON lines). When the database
    cannot be written (locked, disk full) the runs.log line is still written, saying so, and the
    database's error is raised after it."""
    finished = finished_at or now()
    entry = {
        "job": job,
        "started_at": started_at.isoformat(),
        "finished_at": finished.isoformat(),
        "row_count": row_count,
        "status": status,
        "details": details,
    }
    try:
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
    except Exception as exc:
        append_runs_log(home, {**entry, "details": {**details, "etl_runs": f"not recorded: {exc}"}})
        raise
    append_runs_log(home, entry)


def append_runs_log(home: Home, entry: dict[str, Any]) -> None:
    """Append `entry` as one line of runs.log, using the space reserve when the disk is full."""
    home.root.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(entry, default=str) + "\n").encode()
    reserve = home.root / RESERVE_FILE
    try:
        _append(home.runs_log, data)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not reserve.exists():
            raise
        reserve.unlink()
        _append(home.runs_log, data)
    keep_reserve(home)


def keep_reserve(home: Home) -> None:
    """Make the space reserve when it is missing; quietly does nothing while the disk is still full."""
    reserve = home.root / RESERVE_FILE
    if reserve.exists():
        return
    try:
        with open(reserve, "wb") as fh:
            fh.write(b"\0" * RESERVE_BYTES)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        reserve.unlink(missing_ok=True)


def _append(path: Path, data: bytes) -> None:
    """One whole line or nothing: a short write (the disk filling up mid-line) is cut back off."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)

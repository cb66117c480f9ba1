"""What `prodlens status` reports: the last run, what it loaded, freshness, row counts per mart and the
published file's age. It reads runs.log and opens the published file read-only, so it works while a
run holds the working file.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import duckdb

from prodlens.home import Home
from prodlens.lock import holder_pid
from prodlens.publish import MANIFEST
from prodlens.warehouse import scalar, tables_in

TAIL_BYTES = 4 * 1024 * 1024


def last_entry(home: Home, job: str = "run") -> dict[str, Any] | None:
    """The last runs.log entry of `job` (read from the end of the file)."""
    try:
        with open(home.runs_log, "rb") as fh:
            fh.seek(max(fh.seek(0, os.SEEK_END) - TAIL_BYTES, 0))
            lines = fh.read().splitlines()
    except OSError:
        return None
    for raw in reversed(lines):
        try:
            entry = json.loads(raw)
        except ValueError:
            continue  # a line cut by a crash, or the first, partial line of the tail
        if isinstance(entry, dict) and entry.get("job") == job:
            return entry
    return None


def published_info(home: Home) -> dict[str, Any]:
    path = home.published
    if not path.is_file():
        return {"path": str(path), "exists": False}
    info: dict[str, Any] = {"path": str(path), "exists": True}
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = tables_in(con, "marts")
        info["marts"] = {t: scalar(con, f'select count(*) from marts."{t}"') for t in tables}
        try:
            stamp = scalar(con, f"select max(published_at) from {MANIFEST}")
        except duckdb.CatalogException:
            stamp = None
    finally:
        con.close()
    published_at = stamp.astimezone(UTC) if isinstance(stamp, datetime) else modified
    info["published_at"] = published_at.isoformat()
    info["age_seconds"] = round((datetime.now(UTC) - published_at).total_seconds(), 1)
    return info


def gather(home: Home) -> dict[str, Any]:
    run = last_entry(home)
    details = (run or {}).get("details") or {}
    steps = details.get("steps") or {}
    return {
        "home": str(home.root),
        "running_pid": holder_pid(home),
        "last_run": None
        if run is None
        else {
            "started_at": run.get("started_at"),
            "finished_at": run.get("finished_at"),
            "status": run.get("status"),
            "exit_code": details.get("exit_code"),
            "failed_step": details.get("failed_step"),
            "error": details.get("error"),
            "warnings": details.get("warnings") or [],
        },
        "loaded": [line for line in details.get("summary") or [] if line.startswith("load:")],
        "freshness": (steps.get("freshness") or {}).get("sources") or [],
        "published": published_info(home),
    }


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def render(status: dict[str, Any]) -> str:
    lines = [f"home        {status['home']}"]
    pid = status["running_pid"]
    lines.append(f"running     {'yes, PID ' + str(pid) if pid else 'no'}")
    run = status["last_run"]
    if run is None:
        lines.append("last run    none recorded (prodlens run has not run in this home)")
    else:
        outcome = (
            run["status"]
            if not run["failed_step"]
            else (f"{run['status']} at step {run['failed_step']} (exit {run['exit_code']}): {run['error']}")
        )
        lines.append(f"last run    {run['finished_at']}: {outcome}")
        lines += [f"            warning: {w}" for w in run["warnings"]]
    lines += [f"loaded      {line.removeprefix('load: ')}" for line in status["loaded"]] or ["loaded      -"]
    fresh = status["freshness"]
    if fresh:
        for item in fresh:
            age = (
                ""
                if item.get("age_hours") is None
                else f", last load {item['age_hours']:.1f} h before that run"
            )
            lines.append(f"freshness   {item['source']}: {item['status']}{age}")
    else:
        lines.append("freshness   not checked yet")
    pub = status["published"]
    if not pub["exists"]:
        lines.append(f"published   no published database yet ({pub['path']})")
    else:
        lines.append(
            f"published   {pub['path']}, {_age(pub['age_seconds'])} old (published {pub['published_at']})"
        )
        for mart, rows in pub.get("marts", {}).items():
            lines.append(f"  marts.{mart:<28} {rows:>12,} rows")
    return "\n".join(lines)

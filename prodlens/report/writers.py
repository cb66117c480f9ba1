"""Writing a report file: the format comes from the output file's extension."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import date
from pathlib import Path

from prodlens.home import Home
from prodlens.report.content import CSV_COLUMNS, report_json, report_rows
from prodlens.report.data import ReportData, gather
from prodlens.report.page import render_html
from prodlens.report.request import ReportError, ReportRequest, output_format
from prodlens.warehouse import connect


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def render_csv(data: ReportData) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report_rows(data):
        writer.writerow([_csv_cell(row[c]) for c in CSV_COLUMNS])
    return buffer.getvalue()


def render_json(data: ReportData) -> str:
    return json.dumps(report_json(data), indent=2, allow_nan=False) + "\n"


def render(data: ReportData, fmt: str) -> str:
    """The report as text in `fmt` (csv, json or html)."""
    renderers = {"csv": render_csv, "json": render_json, "html": render_html}
    return renderers[fmt](data)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_report(home: Home, request: ReportRequest) -> ReportData:
    """Gather the figures for `request` from `home`'s published database and write `request.output`."""
    fmt = output_format(request.output)
    data = gather(home, request)
    _write_atomically(request.output, render(data, fmt))
    return data


def demo_target(home: Home) -> tuple[str, str, date]:
    """The demo report's tenant, repository and first day: the pair with the most requests, preferring
    one whose repository has GitHub activity."""
    con = connect(home.published, read_only=True)
    try:
        row = con.execute(
            """
            select tenant_id, repo_slug, period_start
            from marts.report_metrics
            where period_type = 'all' and request_count > 0
            order by (commit_count + merged_pr_count > 0) desc, request_count desc, tenant_id, repo_slug
            limit 1
            """
        ).fetchall()
    finally:
        con.close()
    if not row:
        raise ReportError("the demo database has no requests with a repository to report on")
    return row[0][0], row[0][1], row[0][2]


def demo_report(home: Home, output: Path) -> ReportData:
    """Write the demo's HTML report for its busiest tenant and repository, over all its days."""
    tenant, repo, since = demo_target(home)
    return write_report(home, ReportRequest(repo=repo, since=since, output=output, tenant=tenant))

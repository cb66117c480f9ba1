"""`prodlens report --repo OWNER/NAME --since YYYY-MM-DD [--until ...] [--tenant ID] [--lag-days N]
[--policy-model M ...] --output FILE`: the ProdLens report as .csv, .json or .html (by extension)."""

from __future__ import annotations

import argparse
from pathlib import Path

from prodlens.dates import cli_day
from prodlens.home import Home


def _lag(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="write the ProdLens report (.csv, .json or a self-contained .html page) for one repository",
        description=(
            "Write the ProdLens report for one repository and window from the published marts. The format "
            "comes from the --output extension: .csv (metric, value, unit, n, note), .json (nested) or .html "
            "(one offline page with charts). See docs/report.md."
        ),
    )
    report.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the repository")
    report.add_argument("--since", required=True, type=cli_day, metavar="YYYY-MM-DD", help="first day (UTC)")
    report.add_argument(
        "--until",
        type=cli_day,
        metavar="YYYY-MM-DD",
        help="last day (UTC); default: the last day with activity",
    )
    report.add_argument(
        "--tenant", metavar="ID", help="tenant; needed when several tenants have requests in the repository"
    )
    report.add_argument(
        "--lag-days",
        type=_lag,
        metavar="N",
        help="show associations at lags 0..N days (default: every lag the build computed, var max_lag_days)",
    )
    report.add_argument(
        "--policy-model",
        action="append",
        default=[],
        metavar="M",
        help="a model the team's policy allows (repeatable), for model_selection_accuracy",
    )
    report.add_argument(
        "--output", required=True, type=Path, metavar="FILE", help="report.csv, .json or .html"
    )
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from prodlens.report import ReportRequest, write_report  # scipy and Jinja2 load only for a report

    request = ReportRequest(
        repo=args.repo,
        since=args.since,
        until=args.until,
        tenant=args.tenant,
        lag_days=args.lag_days,
        policy_models=tuple(args.policy_model),
        output=args.output,
    )
    data = write_report(Home.from_env(), request)
    for note in data.request.notes:
        print(f"prodlens: note: {note}")
    print(
        f"wrote {args.output} ({data.request.repo}, tenant {data.tenant_id}, {data.period_start} to "
        f"{data.period_end}: {data.metrics['request_count']} requests, {len(data.associations)} associations)"
    )
    return 0

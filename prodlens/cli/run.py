"""`prodlens run [--config PATH] [--wait SECONDS] [--progress MODE]`: the command for cron.

Loads every configured source, applies retention, builds, publishes the analyst database, exports
Parquet and checks freshness, under a per-home run lock. See docs/operations.md.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from prodlens.dbt_process import DbtProcess
from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.lock import add_wait_option, run_lock
from prodlens.run.config import load_config
from prodlens.run.progress import Reporter
from prodlens.run.retention import check_retention, horizon
from prodlens.run.steps import RunContext, RunReport, execute


def register(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="load every configured source, build and publish (the command for cron)",
        description="Load every configured source (prodlens.toml), apply retention, dbt build, publish "
        "prodlens.duckdb atomically, export Parquet and check freshness. Exit codes: 0 ok, 2 bad "
        "configuration, 10 load, 11 stuck dlt package, 12 retention, 13 build, 14 publish, 15 export, "
        "16 stale sources (fail_on_error), 17 built and published, but GitHub's rate limit stopped the "
        "GitHub load (the next run resumes), 75 another run holds this home (nothing was run).",
    )
    run.add_argument("--config", metavar="PATH", help="configuration file (default: ./prodlens.toml, ...)")
    add_wait_option(run)
    run.add_argument(
        "--progress",
        choices=("auto", "bar", "log", "quiet"),
        default="auto",
        help="bar on a terminal, log lines otherwise (auto); quiet prints only the summary",
    )
    run.set_defaults(handler=_run)


def render(report: RunReport) -> str:
    if report.failed_step:
        step, code = report.failed_step, report.exit_code
        head = f"prodlens run: FAILED at step {step} (exit {code}) after {report.seconds:.1f}s"
    elif report.incomplete:
        head = (
            f"prodlens run: PARTIAL (exit {report.exit_code}) in {report.seconds:.1f}s: {report.incomplete}"
        )
    else:
        head = f"prodlens run: ok in {report.seconds:.1f}s"
    lines = [head]
    lines += [f"  {step:<10} {line}" for step, line in report.lines]
    if report.failed_step:
        lines.append(f"  {report.failed_step:<10} FAILED: {report.error}")
    lines += [f"  warning    {w}" for w in report.warnings]
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    home = Home.from_env()
    config = load_config(args.config, home=home)
    if not config.traces.paths and not config.github.repos and not config.spendlogs.enabled:
        raise UserError(
            f"nothing to run: configure [traces] paths, [github] repos or [spendlogs] enabled ({config.describe()}); "
            "see prodlens.example.toml, or set PRODLENS_TRACES_PATHS / PRODLENS_GITHUB_REPOS"
        )
    check_retention(config.retention_days)
    reporter = Reporter(args.progress)
    # dbt imports on another core while the load runs (prodlens.dbt_process); it inherits the run lock
    with (
        run_lock(home, args.wait) as lock,
        DbtProcess.ahead_of_need(keep_fds=(lock,)) or contextlib.nullcontext() as dbt,
    ):
        context = RunContext(
            home, config, reporter, horizon(config.retention_days) if config.retention_days else None, dbt=dbt
        )
        report = execute(context)
    print(render(report), flush=True)
    if report.failed_step:
        print(
            f"prodlens run: error: step {report.failed_step} failed (exit {report.exit_code}): "
            f"{report.error}",
            file=sys.stderr,
        )
        trace = report.steps.get(report.failed_step, {}).get("traceback")
        if trace:
            print(trace, file=sys.stderr, end="")
    elif report.incomplete:
        print(f"prodlens run: warning: {report.incomplete} (exit {report.exit_code})", file=sys.stderr)
    return report.exit_code

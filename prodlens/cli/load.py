"""`prodlens load traces PATH...`, `prodlens load github` and `prodlens load spendlogs`."""

from __future__ import annotations

import argparse
import sys

from prodlens.dates import cli_day
from prodlens.errors import RateLimited
from prodlens.home import Home
from prodlens.lock import add_wait_option, run_lock


def register(commands: argparse._SubParsersAction) -> None:
    load = commands.add_parser(
        "load", help="load raw data (LiteLLM traces, GitHub) into the working database"
    )
    sources = load.add_subparsers(dest="source", required=True, metavar="SOURCE")

    traces = sources.add_parser("traces", help="load LiteLLM JSONL/JSON trace logs")
    traces.add_argument(
        "paths", nargs="+", metavar="PATH", help="a file, a directory (searched recursively) or a glob"
    )
    traces.add_argument(
        "--repo", metavar="OWNER/NAME", help="repository for records that do not name their own"
    )
    traces.add_argument("--tenant", metavar="ID", help="tenant for records that do not carry their own")
    add_wait_option(traces)
    traces.set_defaults(handler=_load_traces)

    github = sources.add_parser(
        "github",
        help="load pull requests, commits and PR events from GitHub's REST API",
        description="Token from GITHUB_TOKEN (optional for public repositories); API base from GITHUB_API_URL "
        "(default https://api.github.com). Prints one summary line per repository.",
    )
    github.add_argument(
        "--repo",
        dest="repos",
        action="append",
        required=True,
        metavar="OWNER/NAME",
        help="a repository to load; repeat for several",
    )
    github.add_argument(
        "--since",
        type=cli_day,
        metavar="YYYY-MM-DD",
        help="where a repository's first load starts (default: 90 days ago); later runs continue from the stored cursors",
    )
    add_wait_option(github)
    github.set_defaults(handler=_load_github)

    spendlogs = sources.add_parser(
        "spendlogs",
        help="load LiteLLM's SpendLogs table from the proxy's Postgres database",
        description="Connection string from PRODLENS_LITELLM_DATABASE_URL (or [sources.litellm_spendlogs] "
        "credentials in .dlt/secrets.toml); it is never printed. Reads rows newer than the last load minus "
        "the look-back, so rows that commit late are not missed; rows already loaded count as duplicates.",
    )
    spendlogs.add_argument(
        "--lookback-minutes",
        type=float,
        default=60.0,
        metavar="N",
        help="re-read the last N minutes before the cursor, for rows that commit late (default 60)",
    )
    spendlogs.add_argument("--tenant", metavar="ID", help="tenant for rows without an organization")
    spendlogs.add_argument(
        "--schema", metavar="NAME", help="the Postgres schema of LiteLLM_SpendLogs (default: the search path)"
    )
    add_wait_option(spendlogs)
    spendlogs.set_defaults(handler=_load_spendlogs)


def _load_traces(args: argparse.Namespace) -> int:
    from prodlens.ingest.traces import load_traces, summary_line

    home = Home.from_env()
    with run_lock(home, args.wait, command="prodlens load traces"):
        counts = load_traces(home, args.paths, repo=args.repo, tenant=args.tenant)
    print(summary_line(counts))
    return 0


def _load_spendlogs(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from prodlens.ingest.spendlogs import load_spendlogs, summary_line

    home = Home.from_env()
    with run_lock(home, args.wait, command="prodlens load spendlogs"):
        counts = load_spendlogs(
            home, lookback=timedelta(minutes=args.lookback_minutes), tenant=args.tenant, schema=args.schema
        )
    print(summary_line(counts))
    return 0


def _load_github(args: argparse.Namespace) -> int:
    from prodlens.ingest.github import load_github

    home = Home.from_env()
    with run_lock(home, args.wait, command="prodlens load github"):
        result = load_github(home, args.repos, args.since)
    for repo in result.repos:
        if repo.ok:
            print(repo.line())
        else:
            print(f"prodlens: error: {repo.line()}", file=sys.stderr)
    if result.stop is not None:
        raise RateLimited(str(result.stop))
    return 2 if result.failed else 0

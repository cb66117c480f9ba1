"""`prodlens load traces PATH...` (and, from the GitHub loader, `prodlens load github`)."""

from __future__ import annotations

import argparse

from loaders.home import Home


def register(commands: argparse._SubParsersAction) -> None:
    load = commands.add_parser("load", help="load raw data (LiteLLM traces, GitHub) into the working database")
    sources = load.add_subparsers(dest="source", required=True, metavar="SOURCE")

    traces = sources.add_parser("traces", help="load LiteLLM JSONL/JSON trace logs")
    traces.add_argument("paths", nargs="+", metavar="PATH", help="a file, a directory (searched recursively) or a glob")
    traces.add_argument("--repo", metavar="OWNER/NAME", help="repository for records that do not name their own")
    traces.add_argument("--tenant", metavar="ID", help="tenant for records that do not carry their own")
    traces.set_defaults(handler=_load_traces)


def _load_traces(args: argparse.Namespace) -> int:
    from loaders.traces.load import load_traces, summary_line

    counts = load_traces(Home.from_env(), args.paths, repo=args.repo, tenant=args.tenant)
    print(summary_line(counts))
    return 0

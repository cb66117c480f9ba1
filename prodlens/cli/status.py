"""`prodlens status [--format text|json]`: last run, what it loaded, freshness, marts and the published
file's age. Never opens the working file, so it answers while a run is in progress."""

from __future__ import annotations

import argparse
import json

from prodlens.home import Home
from prodlens.run.status import gather, render


def register(commands: argparse._SubParsersAction) -> None:
    status = commands.add_parser(
        "status",
        help="show the last run, what it loaded, freshness, mart row counts and the published file's age",
    )
    status.add_argument("--format", choices=("text", "json"), default="text")
    status.set_defaults(handler=_status)


def _status(args: argparse.Namespace) -> int:
    status = gather(Home.from_env())
    print(json.dumps(status, default=str) if args.format == "json" else render(status))
    return 0

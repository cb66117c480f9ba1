"""`prodlens build [-- extra dbt args]`: dbt build (seeds, models, tests), then publish the marts."""

from __future__ import annotations

import argparse

from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.lock import add_wait_option, run_lock


def register(commands: argparse._SubParsersAction) -> None:
    build = commands.add_parser(
        "build",
        help="run dbt build (seeds, models, tests) and publish the marts for readers",
        description="Arguments after `--` are passed to dbt build unchanged, e.g. prodlens build -- --select sessions",
    )
    add_wait_option(build)
    build.set_defaults(handler=_build)
    docs = commands.add_parser(
        "docs", help="generate dbt's documentation site (lineage, every model and column)"
    )
    docs.set_defaults(handler=_docs)


def _build(args: argparse.Namespace) -> int:
    from prodlens import target
    from prodlens.build import build_and_publish, dbt_build  # dbt and dlt load in the commands that use them

    home = Home.from_env()
    with run_lock(home, args.wait, command="prodlens build"):
        if target.uses_lake():
            # the marts are tables of the Spark catalogue: readers query them there (docs/scale.md)
            dbt_build(home, args.passthrough)
            print(
                f"built on {target.current()}: the marts are tables of schema marts (raw data in {target.lake_url(home)})"
            )
            return 0
        build_and_publish(home, args.passthrough)
    print(f"built and published {home.published}")
    return 0


def _docs(args: argparse.Namespace) -> int:
    from prodlens.dbt_runner import run_dbt

    home = Home.from_env()
    if not home.warehouse.exists():
        raise UserError(f"nothing to document in {home.root}: run prodlens build first")
    if not run_dbt(home, ["docs", "generate", *args.passthrough], quiet=True):
        raise UserError(f"dbt docs generate failed (see {home.dbt_logs}/dbt.log)")
    print(
        f"documentation written to {home.dbt_target / 'index.html'} (open it, or: dbt docs serve --target-path {home.dbt_target})"
    )
    return 0

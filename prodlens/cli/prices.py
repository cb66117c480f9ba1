"""`prodlens prices update [--from FILE] [--seed FILE] [--effective-date DAY]`: regenerate the
`model_prices` seed from LiteLLM's price map, effective-dated (prodlens/prices/seed.py)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from prodlens.dates import cli_day
from prodlens.prices.catalog import bundled_catalog, read_catalog
from prodlens.prices.seed import read_seed, update_rows, write_seed
from prodlens.project import project_dir


def register(commands: argparse._SubParsersAction) -> None:
    prices = commands.add_parser(
        "prices", help="keep the model price catalogue (the model_prices seed) current"
    )
    actions = prices.add_subparsers(dest="action", required=True, metavar="ACTION")
    update = actions.add_parser(
        "update",
        help="regenerate the model_prices seed from LiteLLM's model_prices_and_context_window.json",
        description=(
            "A price that changed ends its row and starts a new one on the effective date, so history "
            "stays priced at its own day's price. Run `prodlens build` afterwards to re-price."
        ),
    )
    update.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="FILE",
        help="a copy of LiteLLM's model_prices_and_context_window.json (default: the installed litellm's copy)",
    )
    update.add_argument(
        "--seed",
        type=Path,
        metavar="FILE",
        help="the seed to update (default: seeds/model_prices.csv of the dbt project)",
    )
    update.add_argument(
        "--effective-date",
        type=cli_day,
        metavar="YYYY-MM-DD",
        help="the day changed prices take effect (default: today, UTC)",
    )
    update.set_defaults(handler=_update)


def _update(args: argparse.Namespace) -> int:
    source: Path = args.source or bundled_catalog()
    seed: Path = args.seed or project_dir() / "seeds" / "model_prices.csv"
    day: dt.date = args.effective_date or dt.datetime.now(dt.UTC).date()
    catalog = read_catalog(source)
    rows, update = update_rows(read_seed(seed), catalog, day)
    write_seed(seed, rows)
    print(f"prodlens: {seed}: {update.summary()} (prices from {source}, effective {day})")
    return 0

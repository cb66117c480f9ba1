"""The `model_prices` seed as a file: read it, bring it up to date with a price map, write it back.

The seed is the one source of catalogue prices, and it keeps history: a price that changed ends its row
(`effective_to` = the day of the update) and starts a new one from that day, so a rebuild prices every
request at the price of its own day. An entry new to the seed applies from FIRST_DAY (no earlier price
is known), and an entry LiteLLM dropped keeps its row: a price leaving the map does not end it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from prodlens.errors import UserError
from prodlens.prices.catalog import TIERS, Catalog, CatalogPrice

#: The first day of a price that has no known start.
FIRST_DAY = dt.date(2000, 1, 1)

_PRICES = ("input", "output", "cache_read", "cache_write")
COLUMNS: tuple[str, ...] = (
    "provider",
    "model",
    "effective_from",
    "effective_to",
    *(f"{name}_usd_per_mtok" for name in _PRICES),
    "catalog_key",
    "mode",
    *(
        column
        for n in range(1, TIERS + 1)
        for column in (f"tier_{n}_above_tokens", *(f"tier_{n}_{name}_usd_per_mtok" for name in _PRICES))
    ),
)

Row = dict[str, str]


@dataclass
class Update:
    """What an update did, counted by catalogue key."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    kept: int = 0  # in the seed, no longer in the map
    skipped: int = 0  # in the map, not representable (see catalog.py)

    def summary(self) -> str:
        return (
            f"{self.added} new, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.kept} kept that the price map no longer lists, {self.skipped} left out"
        )


def price_row(price: CatalogPrice, effective_from: dt.date) -> Row:
    """The seed row of a catalogue price, in effect from `effective_from`."""
    row = {column: "" for column in COLUMNS}
    row.update(
        provider=price.provider,
        model=price.model,
        catalog_key=price.catalog_key,
        mode=price.mode,
        effective_from=effective_from.isoformat(),
        input_usd_per_mtok=_text(price.input),
        output_usd_per_mtok=_text(price.output),
        cache_read_usd_per_mtok=_text(price.cache_read),
        cache_write_usd_per_mtok=_text(price.cache_write),
    )
    for n, tier in enumerate(price.tiers, start=1):
        row[f"tier_{n}_above_tokens"] = str(tier.above_tokens)
        for name in _PRICES:
            row[f"tier_{n}_{name}_usd_per_mtok"] = _text(getattr(tier, name))
    return row


def update_rows(current: Iterable[Row], catalog: Catalog, day: dt.date) -> tuple[list[Row], Update]:
    """The seed's rows brought up to date with `catalog` on `day`, sorted by key and start."""
    rows = [dict(row) for row in current]
    open_rows: dict[str, Row] = {}
    for row in rows:
        if not row.get("catalog_key"):
            raise UserError(
                f"model_prices row {row.get('provider')}/{row.get('model')} has no catalog_key; "
                "regenerate the seed from a price map (prodlens prices update)"
            )
        if not row.get("effective_to"):
            if row["catalog_key"] in open_rows:
                raise UserError(
                    f"model_prices has two current rows for {row['catalog_key']!r}; end one of them"
                )
            open_rows[row["catalog_key"]] = row
    update = Update(skipped=len(catalog.skipped))
    for key, price in catalog.prices.items():
        current_row = open_rows.pop(key, None)
        if current_row is None:
            earlier = [r for r in rows if r["catalog_key"] == key]
            rows.append(price_row(price, day if earlier else FIRST_DAY))
            update.added += 1
            continue
        new = price_row(price, day)
        if all(
            _same(current_row.get(c, ""), new[c])
            for c in COLUMNS
            if c not in ("effective_from", "effective_to")
        ):
            update.unchanged += 1
            continue
        update.changed += 1
        if dt.date.fromisoformat(current_row["effective_from"]) >= day:
            # changed again on the day it started (or a backdated update): the new price replaces it
            current_row.update(new, effective_from=current_row["effective_from"])
        else:
            current_row["effective_to"] = day.isoformat()
            rows.append(new)
    update.kept = len(open_rows)
    rows.sort(key=lambda r: (r["catalog_key"], r["effective_from"]))
    return rows, update


def read_seed(path: Path) -> list[Row]:
    """The seed's rows (empty when the file does not exist yet)."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [
            c
            for c in ("provider", "model", "effective_from", "effective_to")
            if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise UserError(f"{path} is not a model_prices seed (no column {', '.join(missing)})")
        return [{column: (row.get(column) or "").strip() for column in COLUMNS} for row in reader]


def write_seed(path: Path, rows: Iterable[Row]) -> None:
    """Write the seed atomically (a crash leaves the old file whole)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(temporary, path)


def _text(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _same(old: str, new: str) -> bool:
    """Equal seed values: numbers compared as numbers (`3.00` is `3`)."""
    if old == new:
        return True
    try:
        return Decimal(old) == Decimal(new)
    except ArithmeticError:
        return False

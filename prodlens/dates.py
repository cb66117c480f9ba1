"""Days and windows of days, as users give them: one parser and one window check for every command,
the config file and the report."""

from __future__ import annotations

import argparse
import datetime as dt


class DateError(ValueError):
    """A value that is not a day, or a window that ends before it starts; the message says which."""


def parse_day(value: dt.date | dt.datetime | str | None, name: str) -> dt.date | None:
    """`value` as a UTC day: a date, a datetime (its date) or `YYYY-MM-DD` text; None stays None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise DateError(f"{name} must be a date as YYYY-MM-DD, got {value!r}") from None


def check_window(
    since: dt.date | None, until: dt.date | None, names: tuple[str, str] = ("since", "until")
) -> None:
    """A window of days is inclusive at both ends and may be open at either; it must not end before it starts."""
    if since is not None and until is not None and until < since:
        raise DateError(f"{names[1]} {until} is before {names[0]} {since}")


def cli_day(text: str) -> dt.date:
    """argparse `type=` for a YYYY-MM-DD option."""
    try:
        day = parse_day(text, "the date")
    except DateError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None
    assert day is not None
    return day


def config_day(value: object, name: str) -> dt.date | None:
    """A day from a dbt var as a model's config holds it: a date or datetime (YAML reads an unquoted
    `--vars '{stats_window_start: 2025-09-01}'` as a date), `YYYY-MM-DD` text (the quoted form), or
    nothing (None, '', 'none', 'null'). Raises DateError naming the var otherwise."""
    if isinstance(value, dt.date):
        return parse_day(value, name)
    text = "" if value is None else str(value).strip()
    if text.lower() in ("", "none", "null"):
        return None
    return parse_day(text, name)

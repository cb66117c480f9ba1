"""The one repository-slug rule and the one date/window rule that every command uses."""

from __future__ import annotations

import argparse
import datetime as dt

import duckdb
import pytest

from prodlens.dates import DateError, check_window, cli_day, parse_day
from prodlens.errors import UserError
from prodlens.names import REPO_SLUG_PATTERN, check_repo_slug, repo_slug

SLUGS = {
    "acme/web": "acme/web",
    "ACME/Web": "acme/web",
    "  acme/web.v2 ": "acme/web.v2",
    "a-b/c_d": "a-b/c_d",
    "a" * 39 + "/x": "a" * 39 + "/x",
    "a" * 40 + "/x": None,  # owners have at most 39 characters
    "-acme/web": None,  # an owner starts with a letter or digit
    "acme/..": None,
    "acme/.": None,
    "../etc": None,
    "acme": None,
    "acme/web/extra": None,
    "acme/we b": None,
    "": None,
}


@pytest.mark.parametrize(("given", "expected"), SLUGS.items())
def test_repo_slug(given: str, expected: str | None) -> None:
    assert repo_slug(given) == expected


def test_the_trace_normaliser_applies_the_same_rule_in_duckdb() -> None:
    """The pattern is handed to the trace normaliser's SQL: DuckDB's RE2 must read it as Python does."""
    con = duckdb.connect()
    for given, expected in SLUGS.items():
        value = given.strip().lower()
        (matched,) = con.execute(
            "select regexp_full_match(?, ?) and split_part(?, '/', 2) not in ('.', '..')",
            [value, REPO_SLUG_PATTERN, value],
        ).fetchone()
        assert matched == (expected is not None), given


def test_check_repo_slug_names_where_the_value_came_from() -> None:
    assert check_repo_slug("Acme/Web") == "acme/web"
    with pytest.raises(UserError, match=r"^\[github\] repos: 'x' is not an OWNER/NAME repository slug"):
        check_repo_slug("x", "[github] repos:")


def test_parse_day_takes_dates_datetimes_and_text() -> None:
    day = dt.date(2026, 11, 30)
    assert parse_day(day, "since") == day
    assert parse_day(dt.datetime(2026, 11, 30, 23, 59), "since") == day
    assert parse_day(" 2026-11-30 ", "since") == day
    assert parse_day(None, "since") is None
    with pytest.raises(DateError, match=r"^until must be a date as YYYY-MM-DD, got '30/11/2026'$"):
        parse_day("30/11/2026", "until")


def test_window_must_not_end_before_it_starts() -> None:
    check_window(dt.date(2026, 11, 1), dt.date(2026, 11, 1))
    check_window(None, dt.date(2026, 11, 1))
    with pytest.raises(DateError, match=r"^--until 2026-10-31 is before --since 2026-11-01$"):
        check_window(dt.date(2026, 11, 1), dt.date(2026, 10, 31), ("--since", "--until"))


def test_cli_day_is_an_argparse_type() -> None:
    assert cli_day("2026-12-01") == dt.date(2026, 12, 1)
    with pytest.raises(argparse.ArgumentTypeError, match="expected a date as YYYY-MM-DD, got '1 Dec'"):
        cli_day("1 Dec")

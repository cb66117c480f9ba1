"""sessions is incremental, yet a change of the price inputs re-prices every request it holds.

The prices_version hash covers the seeds model_prices and price_overrides and var default_price_usd_per_mtok;
the var is what a test can change without editing the repository's seed files, and it goes through the
same hash as a seed edit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from prodlens.home import Home
from tests.conftest import prodlens, write_jsonl
from tests.run.harness import record

BUILD = ("build", "--", "--select", "+sessions", "--exclude-resource-type", "test", "unit_test")


def _costs(home: Home) -> dict[str, tuple[float, str, object]]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        rows = con.execute(
            "select request_id, cost_usd, pricing_status, created_at from marts.sessions"
        ).fetchall()
    return {rid: (cost, status, created) for rid, cost, status, created in rows}


def _build(home: Home, default_price: int) -> None:
    prodlens(*BUILD, "--vars", json.dumps({"default_price_usd_per_mtok": default_price}), home=home)


def test_a_new_default_price_re_prices_requests_of_earlier_runs(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    when = datetime(2026, 11, 20, 12, tzinfo=UTC)
    unknown = {**record("unknown-1", when), "model": "acme-internal-model", "custom_llm_provider": "acme"}
    known = record("known-1", when)  # claude-sonnet-4 at its catalogue price: 1200 in, 300 out
    prodlens("load", "traces", str(write_jsonl(tmp_path / "a.jsonl", [unknown, known])), home=home)
    _build(home, 10)
    first = _costs(home)
    # 1,500 tokens at the default $10 per million
    assert first["unknown-1"][:2] == (pytest.approx(1500 * 10 / 1e6), "default")
    catalogue_cost = first["known-1"][0]
    assert first["known-1"][1] == "catalog" and catalogue_cost == pytest.approx((1200 * 3 + 300 * 15) / 1e6)

    # a second load, then the same prices: only the new request is priced (the first keeps its created_at)
    later = {**record("unknown-2", when), "model": "acme-internal-model", "custom_llm_provider": "acme"}
    prodlens("load", "traces", str(write_jsonl(tmp_path / "b.jsonl", [later])), home=home)
    _build(home, 10)
    second = _costs(home)
    assert second["unknown-1"] == first["unknown-1"]
    assert second["unknown-2"][:2] == (pytest.approx(1500 * 10 / 1e6), "default")

    # the default price doubles, nothing new is loaded: every default-priced request is re-priced
    _build(home, 20)
    third = _costs(home)
    assert third["unknown-1"][:2] == (pytest.approx(1500 * 20 / 1e6), "default")
    assert third["unknown-2"][:2] == (pytest.approx(1500 * 20 / 1e6), "default")
    assert third["known-1"][:2] == (pytest.approx(catalogue_cost), "catalog")
    assert third["unknown-1"][2] > second["unknown-1"][2]  # written by the last run


def _daily_costs(home: Home) -> dict[str, float]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        rows = con.execute(
            "select cast(event_date as varchar), cast(sum(cost_usd_sum) as double) "
            "from marts.report_daily_figures group by all"
        ).fetchall()
    return dict(rows)


def test_new_prices_reach_the_reports_daily_rows_beyond_the_look_back(tmp_path: Path) -> None:
    """report_daily_figures (what the report adds up) is incremental by day with a 3-day look-back, yet a
    price change reaches a day ten days before the newest: the report costs what sessions costs."""
    home = Home(tmp_path / "home")
    early, late = datetime(2026, 11, 10, 12, tzinfo=UTC), datetime(2026, 11, 20, 12, tzinfo=UTC)
    unknown = {"model": "acme-internal-model", "custom_llm_provider": "acme"}
    requests = [{**record("early", early), **unknown}, {**record("late", late), **unknown}]
    prodlens("load", "traces", str(write_jsonl(tmp_path / "a.jsonl", requests)), home=home)
    build = (
        "build",
        "--",
        "--select",
        "+report_daily_figures",
        "--exclude-resource-type",
        "test",
        "unit_test",
    )
    prodlens(*build, "--vars", json.dumps({"default_price_usd_per_mtok": 10}), home=home)
    # 1,500 tokens a day at the default $10 per million
    assert _daily_costs(home) == {"2026-11-10": pytest.approx(0.015), "2026-11-20": pytest.approx(0.015)}
    prodlens(*build, "--vars", json.dumps({"default_price_usd_per_mtok": 20}), home=home)
    assert _daily_costs(home) == {"2026-11-10": pytest.approx(0.03), "2026-11-20": pytest.approx(0.03)}

"""Rendering without a database: hand-made report data with a planted significant association, degenerate
tests and missing sections; readings, number formats, request checks and the SVG scales."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from prodlens.report.content import report_json, report_rows
from prodlens.report.data import (
    Association,
    DailyActivity,
    DailyCost,
    DailyLatency,
    Effect,
    Family,
    ReportData,
    Savings,
)
from prodlens.report.reading import association_reading, effect_reading, fmt_p, fmt_usd
from prodlens.report.request import ReportError, ReportRequest
from prodlens.report.svg import nice_ticks
from prodlens.report.writers import render
from tests.report.dom import parse

START = date(2025, 3, 3)
DAYS = 21


def assoc(
    lag: int, r: float | None, p_adj: float | None, *, n: int = 41, note: str | None = None
) -> Association:
    return Association(
        x_metric="requests", y_metric="commits", lag_days=lag, sample_size=n,
        pearson_r=r, pearson_p=None if p_adj is None else p_adj / 4, pearson_p_adjusted=p_adj,
        spearman_r=r, spearman_p=None if p_adj is None else p_adj / 4, spearman_p_adjusted=p_adj,
        raw_pearson_r=r, raw_pearson_p=p_adj, raw_spearman_r=r, raw_spearman_p=p_adj,
        significant=p_adj is not None and p_adj < 0.05, detrended=True, fdr=0.05, note=note,
        window_start=START, window_end=START + timedelta(days=DAYS - 1), correlation_date=START + timedelta(days=DAYS - 1),
    )  # fmt: skip


METRICS = {
    "period_start": START,
    "period_end": START + timedelta(days=DAYS - 1),
    "days_in_period": DAYS,
    "request_count": 120,
    "accepted_count": 60,
    "acceptance_tracked_count": 100,
    "acceptance_rate": 0.5,
    "error_count": 6,
    "error_rate": 0.05,
    "total_cost_usd": 12.5,
    "merged_pr_count": 5,
    "cost_per_merged_pr": 2.5,
    "model_selection_accuracy": None,
}


def make_data(**changes: object) -> ReportData:
    days = [START + timedelta(days=i) for i in range(DAYS)]
    data = ReportData(
        request=ReportRequest(repo="acme/web", since=START, output=Path("r.html"), tenant="acme", lag_days=2),
        tenant_id="acme",
        metrics=dict(METRICS),
        associations=[
            assoc(0, 0.05, 0.62),
            assoc(1, 0.45, 0.003),
            assoc(2, None, None, n=5, note="too few days (5 < 14)"),
        ],
        family=Family(size=2, significant=1, fdr=0.05, max_lag_days=2),
        effects=[
            Effect("latency_cohens_d", None, 0.31, 0.3105, 0.1, 0.52, 60, 60, 120, "small", None, days[-1]),
            Effect("model_acceptance_rate", "m/a", 0.5, None, 0.41, 0.59, 60, 60, 120, None, None, days[-1]),
            Effect(
                "session_growth_percent",
                None,
                None,
                None,
                None,
                None,
                0,
                0,
                0,
                None,
                "no requests in the previous 7 days",
                days[-1],
            ),
        ],
        daily_cost=[DailyCost(d, "m/a", 0.5, 4) for d in days] + [DailyCost(days[0], "m/b", 2.0, 1)],
        latency=[DailyLatency(d, "prov", 100.0, 300.0, 4) for d in days],
        activity=[DailyActivity(d, 4 + i % 3, i % 2) for i, d in enumerate(days)],
        savings=Savings(days[-1], 1.25, 10.0, 12.5, 13.75),
        database=Path("/tmp/prodlens.duckdb"),
        published_at=datetime(2025, 3, 24, tzinfo=UTC),
        generated_at=datetime(2025, 3, 25, tzinfo=UTC),
    )
    return replace(data, **changes)


def test_association_readings() -> None:
    assert association_reading(assoc(0, 0.05, 0.62)) == "no reliable association (n=41, adjusted p=0.62)"
    assert association_reading(assoc(1, 0.45, 0.003)) == (
        "moderate positive association (r=0.45, n=41, adjusted p=0.003)"
    )
    assert association_reading(assoc(1, -0.61, 0.0004, n=60)) == (
        "strong negative association (r=-0.61, n=60, adjusted p=<0.001)"
    )
    assert association_reading(assoc(3, None, None, note="constant series: commits")) == (
        "not tested: constant series: commits"
    )


def test_effect_readings() -> None:
    data = make_data()
    latency, rate, growth = data.effects
    assert effect_reading(latency) == (
        "accepted requests were slower than not-accepted ones: Hedges' g +0.31 (95% CI 0.10 to 0.52), small; "
        "n tracked = 60 accepted, 60 not accepted"
    )
    spanning = replace(latency, value=-0.05, ci_low=-0.15, ci_high=0.04, interpretation="negligible")
    assert effect_reading(spanning).startswith(
        "no clear latency difference between accepted and not-accepted"
    )
    assert effect_reading(rate) == "50.0% accepted (95% CI 41.0% to 59.0%, n=120)"
    assert effect_reading(growth) == "not computed: no requests in the previous 7 days"


def test_formats() -> None:
    assert fmt_p(0.6234) == "0.62" and fmt_p(0.0031) == "0.003" and fmt_p(0.00001) == "<0.001"
    assert fmt_usd(7.8723) == "$7.87" and fmt_usd(0.0034) == "$0.0034" and fmt_usd(None) == "–"


def test_planted_significant_association_is_highlighted() -> None:
    page = parse(render(make_data(), "html"))
    chart = page.by_id("chart-requests-commits")
    assert chart.attrs["data-strongest-lag"] == "1"
    caption = page.by_id("strongest-correlation").text
    assert caption == (
        "Strongest lagged correlation: requests against commits 1 day later, Pearson r = +0.45 (trend and "
        "weekday removed, n = 41), Benjamini–Hochberg adjusted p = 0.003: significant at FDR 0.05."
    )
    rows = page.by_id("associations").find_all(lambda e: e.tag == "tr" and "data-lag" in e.attrs)
    assert ["significant" in r.classes() for r in rows] == [False, True, False]
    assert rows[2].children[-1].text == "not tested: too few days (5 < 14)"
    profile = page.by_id("chart-lag-profile")
    assert [(m.attrs["data-x"], m.attrs["data-significant"]) for m in profile.marks()] == [
        ("0", "false"),
        ("1", "true"),
    ]


def test_stacked_cost_bars_and_missing_sections() -> None:
    data = make_data(latency=None, savings=None, associations=[], family=Family(0, 0, None, None))
    page = parse(render(data, "html"))
    cost = page.by_id("chart-daily-cost")
    assert cost.attrs["data-points"] == str(DAYS + 1)
    first_day = [m for m in cost.marks() if m.attrs["data-x"] == START.isoformat()]
    assert [m.attrs["data-series"] for m in first_day] == ["m/a", "m/b"]
    a, b = first_day
    assert float(a.attrs["y"]) == pytest.approx(float(b.attrs["y"]) + float(b.attrs["height"]), abs=0.02)
    latency = page.by_id("chart-latency")
    assert latency.attrs["data-points"] == "0"
    assert "marts.provider_performance is not in the database" in latency.text
    assert page.by_id("strongest-correlation").text.startswith("No lag of requests against commits")
    assert "holds no correlations for this tenant and repository" in page.by_id("association").text
    card = next(
        c for c in page.find_all(lambda e: "card" in e.classes()) if c.attrs["data-metric"] == "savings"
    )
    assert "no ROI snapshot" in card.text
    doc = json.loads(render(data, "json"))
    assert doc["cost_metrics"]["savings"] is None
    assert doc["ai_outcome_association"]["strongest_requests_vs_commits"] is None


def test_json_and_csv_of_hand_made_data() -> None:
    data = make_data()
    doc = report_json(data)
    assert doc["cost_metrics"]["total_cost_usd"] == 12.5
    assert doc["effect_sizes"]["model_acceptance_rates"]["m/a"]["ci_low"] == 0.41
    assert doc["effect_sizes"]["session_growth_percent"]["value"] is None
    assert doc["multiple_comparison_adjustment"]["significant_shown"] == 1
    rows = {r["metric"]: r for r in report_rows(data)}
    assert rows["ai_outcome_association.requests.commits.lag_1.pearson_r"]["note"] == (
        "moderate positive association (r=0.45, n=41, adjusted p=0.003)"
    )
    assert rows["ai_outcome_association.requests.commits.lag_2.pearson_r"]["value"] is None
    assert rows["cost_metrics.savings_30d_usd"]["value"] == 1.25
    assert rows["effect_sizes.model_acceptance_rate.m/a.ci_high"]["value"] == 0.59
    text = render(data, "csv")
    assert text.splitlines()[0] == "metric,value,unit,n,note"
    assert not any(
        cell.lower() in {"nan", "inf", "-inf"} for line in text.splitlines() for cell in line.split(",")
    )


def test_request_checks() -> None:
    today = date(2025, 6, 1)
    base = ReportRequest(repo="acme/web", since=date(2025, 5, 1), output=Path("x.json"))
    assert base.checked(today) == base
    with pytest.raises(ReportError, match=r"--since 2025-06-02 is in the future \(today is 2025-06-01 UTC\)"):
        replace(base, since=date(2025, 6, 2)).checked(today)
    clamped = replace(base, until=date(2025, 7, 1)).checked(today)
    assert clamped.until == today and clamped.notes == (
        "--until 2025-07-01 is in the future; the report ends today (2025-06-01)",
    )
    with pytest.raises(ReportError, match=r"use a \.csv, \.json or \.html file"):
        replace(base, output=Path("x.txt")).checked(today)
    assert replace(base, output=Path("X.HTM")).format == "html"
    with pytest.raises(ReportError, match="OWNER/NAME"):
        replace(base, repo="acme").checked(today)


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (0, 0.39, [0, 0.1, 0.2, 0.3, 0.4]),
        (0, 7, [0, 2, 4, 6, 8]),
        (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1]),
        (-1, 1, None),
    ],
)
def test_nice_ticks(lo: float, hi: float, expected: list[float] | None) -> None:
    ticks = nice_ticks(lo, hi)
    if expected is not None:
        assert ticks == expected
    assert ticks[0] <= lo and ticks[-1] >= hi and ticks == sorted(ticks)


def test_acceptance_figures_show_n_tracked_and_say_when_nothing_is_tracked() -> None:
    page = parse(render(make_data(), "html"))
    card = next(
        c
        for c in page.find_all(lambda e: "card" in e.classes())
        if c.attrs["data-metric"] == "acceptance_rate"
    )
    assert "n tracked 100" in card.text
    row = next(
        r
        for r in page.by_id("ai-metrics").find_all(
            lambda e: e.tag == "tr" and e.attrs.get("data-metric") == "acceptance_rate"
        )
    )
    assert "(n tracked 100)" in row.text
    untracked = make_data()
    untracked.metrics.update(acceptance_tracked_count=0, accepted_count=0, acceptance_rate=None)
    page = parse(render(untracked, "html"))
    card = next(
        c
        for c in page.find_all(lambda e: "card" in e.classes())
        if c.attrs["data-metric"] == "acceptance_rate"
    )
    assert "acceptance not tracked" in card.text and "0.0%" not in card.text
    rows = page.by_id("ai-metrics").find_all(
        lambda e: e.tag == "tr" and e.attrs.get("data-metric", "").startswith("acceptance_rate")
    )
    assert rows and all("acceptance not tracked" in r.text for r in rows)

"""The .html report read back with an HTML parser: self-contained, and its cards, charts and tables carry
the marts' figures."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import duckdb
import pytest

from prodlens.report.reading import fmt_p, fmt_pct, fmt_r, fmt_usd
from tests.report.conftest import Reports
from tests.report.demo_run import DemoRun, mart_rows
from tests.report.dom import Element, parse


@pytest.fixture(scope="module")
def page(reports: Reports) -> Element:
    return parse(reports.html)


def window(reports: Reports) -> tuple[date, date]:
    meta = reports.json["metadata"]
    return date.fromisoformat(meta["period_start"]), date.fromisoformat(meta["period_end"])


def test_page_is_self_contained(reports: Reports, page: Element) -> None:
    html = reports.html
    assert html.startswith("<!doctype html>")
    assert not page.find_all(lambda e: e.tag in {"script", "link", "img", "iframe", "object"})
    assert not page.find_all(lambda e: "src" in e.attrs or "href" in e.attrs)
    urls = set(re.findall(r"(?:https?:)?//[^\s\"'<>)]+", html))
    assert urls == {"http://www.w3.org/2000/svg"}, urls
    assert "@import" not in html and "url(" not in html


def test_headline_cards(reports: Reports, page: Element) -> None:
    cards = {c.attrs["data-metric"]: c for c in page.find_all(lambda e: "card" in e.classes())}
    assert list(cards) == ["total_cost_usd", "cost_per_merged_pr", "error_rate", "acceptance_rate", "savings"]
    cost = reports.json["cost_metrics"]
    assert fmt_usd(cost["total_cost_usd"]) in cards["total_cost_usd"].text
    assert fmt_usd(cost["cost_per_merged_pr_usd"]) in cards["cost_per_merged_pr"].text
    assert fmt_pct(reports.json["error_rate"]["value"]) in cards["error_rate"].text
    assert fmt_pct(reports.json["acceptance_rate"]["value"]) in cards["acceptance_rate"].text
    savings = cost["savings"]
    assert savings is not None, "the demo builds customer_roi_snapshots"
    assert fmt_usd(savings["total_savings_30d"]) in cards["savings"].text
    assert f"30 days to {savings['snapshot_date']}" in cards["savings"].text


def test_daily_cost_chart_holds_each_day_and_model(
    db: duckdb.DuckDBPyConnection, reports: Reports, page: Element
) -> None:
    chart = page.by_id("chart-daily-cost")
    marks = chart.marks()
    assert int(chart.attrs["data-points"]) == len(marks) > 0
    start, end = window(reports)
    expected = mart_rows(
        db,
        """
        select event_date, model, sum(cost_usd) as cost from marts.sessions
        where tenant_id = ? and repo_slug = ? and event_date between ? and ? group by all
        """,
        [reports.tenant, reports.repo, start, end],
    )
    drawn = {(m.attrs["data-x"], m.attrs["data-series"]): float(m.attrs["data-y"]) for m in marks}
    assert len(drawn) == len(marks) == len(expected)
    for row in expected:
        assert drawn[(row["event_date"].isoformat(), row["model"])] == pytest.approx(row["cost"], rel=1e-12)
    assert sum(drawn.values()) == pytest.approx(reports.json["cost_metrics"]["total_cost_usd"], rel=1e-9)
    heights = [float(m.attrs["height"]) for m in marks]
    assert max(heights) > 100 and min(heights) >= 0


def test_latency_chart_holds_provider_percentiles(
    db: duckdb.DuckDBPyConnection, reports: Reports, page: Element
) -> None:
    chart = page.by_id("chart-latency")
    marks = chart.marks()
    start, end = window(reports)
    rows = mart_rows(
        db,
        """
        select cast(period_start as date) as day, provider, p50_duration_ms, p95_duration_ms
        from marts.provider_performance
        where tenant_id = ? and aggregation_level = 'daily' and cast(period_start as date) between ? and ?
        """,
        [reports.tenant, start, end],
    )
    expected = {(f"{r['provider']} p50", r["day"].isoformat()): r["p50_duration_ms"] for r in rows} | {
        (f"{r['provider']} p95", r["day"].isoformat()): r["p95_duration_ms"] for r in rows
    }
    drawn = {(m.attrs["data-series"], m.attrs["data-x"]): float(m.attrs["data-y"]) for m in marks}
    assert drawn.keys() == expected.keys() and drawn
    for key, value in expected.items():
        assert drawn[key] == pytest.approx(value, rel=1e-12)
    for (series_name, day), value in drawn.items():
        provider, stat = series_name.rsplit(" ", 1)
        if stat == "p50" and (f"{provider} p95", day) in drawn:
            assert value <= drawn[(f"{provider} p95", day)]
    series = {e.attrs["data-series"] for e in chart.find_all(lambda e: "line" in e.classes())}
    assert series == {s for s, _ in expected}


def test_requests_commits_chart_is_the_correlated_series(
    db: duckdb.DuckDBPyConnection, reports: Reports, page: Element
) -> None:
    chart = page.by_id("chart-requests-commits")
    start, end = window(reports)
    rows = mart_rows(
        db,
        """
        select event_date, requests, commits from marts.correlation_series
        where tenant_id = ? and repo_slug = ? and event_date between ? and ? order by event_date
        """,
        [reports.tenant, reports.repo, start, end],
    )
    assert len(rows) == (end - start).days + 1, "a continuous day spine"
    marks = chart.marks()
    by_series = Counter(m.attrs["data-series"] for m in marks)
    assert by_series == {"requests": len(rows), "commits": len(rows)}
    bars = {m.attrs["data-x"]: int(m.attrs["data-y"]) for m in marks if m.attrs["data-series"] == "requests"}
    assert bars == {r["event_date"].isoformat(): r["requests"] for r in rows}
    assert 0 in bars.values() or all(v > 0 for v in bars.values())
    commits = {
        m.attrs["data-x"]: int(m.attrs["data-y"]) for m in marks if m.attrs["data-series"] == "commits"
    }
    assert commits == {r["event_date"].isoformat(): r["commits"] for r in rows}
    assert sum(bars.values()) == reports.json["ai_interaction_velocity"]["request_count"]
    caption = page.by_id("strongest-correlation").text
    strongest = reports.json["ai_outcome_association"]["strongest_requests_vs_commits"]
    if strongest is None:
        assert caption.startswith("No lag of requests against commits could be tested")
        assert "data-strongest-lag" not in chart.attrs
    else:
        assert chart.attrs["data-strongest-lag"] == str(strongest["lag_days"])
        assert f"Pearson r = {fmt_r(strongest['pearson_r'])}" in caption
        assert f"adjusted p = {fmt_p(strongest['pearson_p_adjusted'])}" in caption
        assert ("not significant" in caption) == (not strongest["significant"])


def test_association_table_has_every_test_with_a_reading(reports: Reports, page: Element) -> None:
    table = page.by_id("associations")
    body_rows = table.find_all(lambda e: e.tag == "tr" and "data-lag" in e.attrs)
    tests = reports.json["ai_outcome_association"]["tests"]
    assert len(body_rows) == len(tests) == 96
    for row, test in zip(body_rows, tests, strict=True):
        assert (row.attrs["data-x"], row.attrs["data-y"], int(row.attrs["data-lag"])) == (
            test["x_metric"],
            test["y_metric"],
            test["lag_days"],
        )
        cells = [c.text for c in row.children if c.tag == "td"]
        assert cells[-1] == test["reading"]
        assert cells[3] == str(test["sample_size"])
        assert ("significant" in row.classes()) == test["significant"]
    readings = {t["reading"].split(" (")[0].split(":")[0] for t in tests}
    assert readings <= {"no reliable association", "not tested"} | {
        f"{s} {d} association"
        for s in ("negligible", "weak", "moderate", "strong")
        for d in ("positive", "negative")
    }


def test_effect_sizes_section(reports: Reports, page: Element) -> None:
    rates = reports.json["effect_sizes"]["model_acceptance_rates"]
    chart = page.by_id("chart-acceptance")
    marks = chart.marks()
    assert {m.attrs["data-series"] for m in marks} == set(rates)
    for m in marks:
        entry = rates[m.attrs["data-series"]]
        assert float(m.attrs["data-y"]) == entry["value"]
        assert (float(m.attrs["data-low"]), float(m.attrs["data-high"])) == (
            entry["ci_low"],
            entry["ci_high"],
        )
    latency = reports.json["effect_sizes"]["latency_cohens_d"]
    g_marks = page.by_id("chart-latency-effect").marks()
    assert [float(m.attrs["data-y"]) for m in g_marks] == [latency["value"]]
    table = page.by_id("effect-sizes")
    texts = [r.text for r in table.find_all(lambda e: e.tag == "tr" and "data-metric" in e.attrs)]
    assert len(texts) == 3 + len(rates)
    assert any("95% CI" in t and "Hedges' g" in t for t in texts)


def test_how_to_read_note(page: Element) -> None:
    note = page.by_id("how-to-read").text
    assert "Correlation is not causation" in note
    assert "Benjamini–Hochberg" in note
    assert "zeros" in note


def test_metric_tables_cover_every_csv_figure(reports: Reports, page: Element) -> None:
    shown = {
        e.attrs["data-metric"]
        for table in ("ai-metrics", "outcome-metrics")
        for e in page.by_id(table).find_all(lambda e: e.tag == "tr" and "data-metric" in e.attrs)
    }
    csv_figures = {
        r["metric"]
        for r in reports.csv_rows
        if not r["metric"].startswith(
            ("metadata.", "ai_outcome", "multiple_comparison", "effect_sizes", "cost_metrics.savings")
        )
    }
    assert shown == csv_figures


def test_demo_writes_demo_report_and_says_where(demo: DemoRun) -> None:
    last = demo.stdout.strip().splitlines()[-1]
    assert last.startswith("Report (") and last.endswith("; open it in a browser")
    assert str(demo.report) in last
    page = parse(demo.report.read_text())
    assert page.by_id("chart-daily-cost").marks()
    assert page.find_all(lambda e: e.tag == "h1")[0].text.startswith("ProdLens report: ")

"""The .json and .csv reports against the marts they are read from (the shared demo build)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest

from prodlens.report.content import FIGURES, JSON_KEYS
from tests.report.conftest import Reports
from tests.report.demo_run import DemoRun, cli, mart_rows

ASSOCIATION_FIELDS = (
    "sample_size",
    "pearson_r",
    "pearson_p",
    "pearson_p_adjusted",
    "spearman_r",
    "spearman_p",
    "spearman_p_adjusted",
    "raw_pearson_r",
    "raw_pearson_p",
    "raw_spearman_r",
    "raw_spearman_p",
    "significant",
    "note",
)


def same(actual: Any, expected: Any) -> bool:
    """Equal, floats to 1e-12 relative (the JSON/CSV round trip keeps full precision)."""
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual == expected
    if isinstance(expected, int | float) or hasattr(expected, "__float__"):
        return math.isclose(float(actual), float(expected), rel_tol=1e-12, abs_tol=1e-12)
    return str(actual) == str(expected)


def all_row(db: duckdb.DuckDBPyConnection, reports: Reports) -> dict[str, Any]:
    rows = mart_rows(
        db,
        "select * from marts.report_metrics where tenant_id = ? and repo_slug = ? and period_type = 'all'",
        [reports.tenant, reports.repo],
    )
    assert len(rows) == 1
    return rows[0]


def cache_rows(db: duckdb.DuckDBPyConnection, reports: Reports) -> list[dict[str, Any]]:
    return mart_rows(
        db,
        "select * from marts.correlation_cache where tenant_id = ? and repo_slug = ?",
        [reports.tenant, reports.repo],
    )


def test_json_has_the_report_keys_in_order(reports: Reports) -> None:
    assert list(reports.json) == list(JSON_KEYS)
    assert JSON_KEYS == (
        "ai_interaction_velocity",
        "acceptance_rate",
        "model_selection_accuracy",
        "error_rate",
        "token_efficiency",
        "acceptance_quality",
        "pr_throughput",
        "commit_frequency",
        "pr_merge_time_hours",
        "rework_rate",
        "cost_metrics",
        "ai_outcome_association",
        "multiple_comparison_adjustment",
        "effect_sizes",
        "metadata",
    )


def test_json_figures_equal_the_report_metrics_all_row(
    db: duckdb.DuckDBPyConnection, reports: Reports
) -> None:
    """--since = the first day and no --until is the mart's `all` window: every figure equals the mart."""
    mart = all_row(db, reports)
    assert mart["period_start"].isoformat() == reports.since.isoformat()
    for figure in FIGURES:
        actual = reports.json[figure.section][figure.key]
        assert same(actual, mart[figure.column]), (figure, actual, mart[figure.column])
    # acceptance counts the requests whose acceptance was tracked only
    assert 0 < mart["acceptance_tracked_count"] <= mart["request_count"]
    assert reports.json["acceptance_rate"]["value"] == pytest.approx(
        mart["accepted_count"] / mart["acceptance_tracked_count"], rel=1e-12
    )
    assert reports.json["acceptance_rate"]["tracked_count"] == mart["acceptance_tracked_count"]
    meta = reports.json["metadata"]
    assert (meta["repo"], meta["tenant_id"]) == (reports.repo, reports.tenant)
    assert meta["period_start"] == mart["period_start"].isoformat()
    assert meta["period_end"] == mart["period_end"].isoformat()
    assert meta["days_in_period"] == mart["days_in_period"]


def test_json_week_window_equals_the_week_row(
    demo: DemoRun, db: duckdb.DuckDBPyConnection, reports: Reports, tmp_path
) -> None:
    week = mart_rows(
        db,
        """
        select * from marts.report_metrics
        where tenant_id = ? and repo_slug = ? and period_type = 'week' and request_count > 0
        order by request_count desc, period_start limit 1
        """,
        [reports.tenant, reports.repo],
    )[0]
    out = tmp_path / "week.json"
    cli(
        "report", "--repo", reports.repo, "--tenant", reports.tenant, "--since", str(week["period_start"]),
        "--until", str(week["period_end"]), "--output", str(out),
        home=demo.home, cwd=tmp_path,
    )  # fmt: skip
    doc = json.loads(out.read_text())
    for figure in FIGURES:
        assert same(doc[figure.section][figure.key], week[figure.column]), figure
    assert doc["ai_interaction_velocity"]["request_count"] == week["request_count"] > 0


def test_json_total_cost_equals_the_sum_over_requests(
    db: duckdb.DuckDBPyConnection, reports: Reports
) -> None:
    total = mart_rows(
        db,
        "select sum(cost_usd) as c, count(*) as n from marts.sessions where tenant_id = ? and repo_slug = ?",
        [reports.tenant, reports.repo],
    )[0]
    assert reports.json["cost_metrics"]["total_cost_usd"] == pytest.approx(total["c"], rel=1e-9)
    assert reports.json["ai_interaction_velocity"]["request_count"] == total["n"]


def test_json_associations_are_the_correlation_cache_rows(
    db: duckdb.DuckDBPyConnection, reports: Reports
) -> None:
    mart = {(r["x_metric"], r["y_metric"], r["lag_days"]): r for r in cache_rows(db, reports)}
    section = reports.json["ai_outcome_association"]
    tests = section["tests"]
    assert len(tests) == len(mart) == 4 * 3 * 8
    for test in tests:
        row = mart[(test["x_metric"], test["y_metric"], test["lag_days"])]
        for name in ASSOCIATION_FIELDS:
            assert same(test[name], row[name]), (name, test, row)
        if row["pearson_r"] is None:
            assert test["reading"] == f"not tested: {row['note']}"
        elif not row["significant"]:
            p = row["pearson_p_adjusted"]
            shown = f"{p:.2f}" if p >= 0.01 else (f"{p:.3f}" if p >= 0.001 else "<0.001")
            assert test["reading"] == f"no reliable association (n={row['sample_size']}, adjusted p={shown})"
    assert section["lags"] == list(range(8))
    assert section["detrended"] is True
    any_row = next(iter(mart.values()))
    assert section["window_start"] == any_row["window_start"].isoformat()
    assert section["correlation_date"] == any_row["correlation_date"].isoformat()
    tested = [r for r in mart.values() if r["x_metric"] == "requests" and r["y_metric"] == "commits"]
    tested = [r for r in tested if r["pearson_r"] is not None]
    strongest = section["strongest_requests_vs_commits"]
    if tested:
        best = max(tested, key=lambda r: (abs(r["pearson_r"]), -r["lag_days"]))
        assert (strongest["lag_days"], strongest["pearson_r"]) == (best["lag_days"], best["pearson_r"])
    else:
        assert strongest is None


def test_json_multiple_comparison_adjustment(db: duckdb.DuckDBPyConnection, reports: Reports) -> None:
    rows = cache_rows(db, reports)
    adjustment = reports.json["multiple_comparison_adjustment"]
    assert adjustment["method"] == "benjamini-hochberg"
    assert adjustment["fdr"] == 0.05
    assert adjustment["family_size"] == sum(r["pearson_p"] is not None for r in rows)
    assert adjustment["significant_in_family"] == sum(bool(r["significant"]) for r in rows)
    assert len(adjustment["adjusted_p_values"]) == len(rows)
    by_key = {(r["x_metric"], r["y_metric"], r["lag_days"]): r for r in rows}
    for entry in adjustment["adjusted_p_values"]:
        row = by_key[(entry["x_metric"], entry["y_metric"], entry["lag_days"])]
        assert same(entry["pearson_p_adjusted"], row["pearson_p_adjusted"])
        assert same(entry["spearman_p_adjusted"], row["spearman_p_adjusted"])


def test_json_effect_sizes_are_the_mart_rows(db: duckdb.DuckDBPyConnection, reports: Reports) -> None:
    rows = mart_rows(db, "select * from marts.effect_sizes where tenant_id = ?", [reports.tenant])
    effects = reports.json["effect_sizes"]
    models = {r["model"]: r for r in rows if r["metric"] == "model_acceptance_rate"}
    assert set(effects["model_acceptance_rates"]) == set(models) and models
    for model, row in models.items():
        entry = effects["model_acceptance_rates"][model]
        for name in ("value", "ci_low", "ci_high", "n", "n_group_a", "n_group_b"):
            assert same(entry[name], row[name]), (model, name)
        assert entry["ci_low"] <= entry["value"] <= entry["ci_high"]
    for metric in ("latency_cohens_d", "token_efficiency_ratio", "session_growth_percent"):
        row = next(r for r in rows if r["metric"] == metric)
        for name in (
            "value",
            "cohens_d",
            "ci_low",
            "ci_high",
            "n",
            "n_group_a",
            "n_group_b",
            "interpretation",
        ):
            assert same(effects[metric][name], row[name]), (metric, name)
    latency = effects["latency_cohens_d"]
    assert latency["interpretation"] in {"negligible", "small", "medium", "large"}
    assert latency["n"] == latency["n_group_a"] + latency["n_group_b"]


def test_csv_has_one_metric_per_row_equal_to_the_marts(
    db: duckdb.DuckDBPyConnection, reports: Reports
) -> None:
    rows = reports.csv_rows
    assert list(rows[0]) == ["metric", "value", "unit", "n", "note"]
    by_metric = {r["metric"]: r for r in rows}
    assert len(by_metric) == len(rows), "metrics are unique"
    mart = all_row(db, reports)
    for figure in (f for f in FIGURES if f.in_csv):
        row = by_metric[figure.metric]
        expected = mart[figure.column]
        assert (row["value"] == "") if expected is None else same(float(row["value"]), expected), figure
        assert row["unit"] == figure.unit
        if figure.n_column:
            assert row["n"] == str(mart[figure.n_column])
    assert by_metric["acceptance_rate"]["unit"] == "fraction"
    assert by_metric["model_selection_accuracy"]["note"] == "no --policy-model given"
    cache = cache_rows(db, reports)
    assert sum(r["metric"].startswith("ai_outcome_association.") for r in rows) == 3 * len(cache)
    assert sum(r["metric"].startswith("multiple_comparison_adjustment.") for r in rows) == 2 * len(cache) + 2
    one = next(r for r in cache if r["pearson_r"] is not None)
    key = f"{one['x_metric']}.{one['y_metric']}.lag_{one['lag_days']}"
    assert float(by_metric[f"ai_outcome_association.{key}.pearson_r"]["value"]) == one["pearson_r"]
    assert by_metric[f"ai_outcome_association.{key}.pearson_r"]["n"] == str(one["sample_size"])
    assert (
        float(by_metric[f"multiple_comparison_adjustment.{key}.pearson_p_adjusted"]["value"])
        == (one["pearson_p_adjusted"])
    )
    effects = mart_rows(db, "select * from marts.effect_sizes where tenant_id = ?", [reports.tenant])
    for e in effects:
        metric = f"effect_sizes.{e['metric']}" + (f".{e['model']}" if e["model"] else "")
        assert same(float(by_metric[metric]["value"]), e["value"]) if e["value"] is not None else True
        if e["ci_low"] is not None:
            assert float(by_metric[f"{metric}.ci_low"]["value"]) == e["ci_low"]


def test_csv_and_json_agree(reports: Reports) -> None:
    by_metric = {r["metric"]: r for r in reports.csv_rows}
    for figure in (f for f in FIGURES if f.in_csv):
        value = reports.json[figure.section][figure.key]
        cell = by_metric[figure.metric]["value"]
        assert (cell == "") if value is None else float(cell) == value


def test_policy_models_give_model_selection_accuracy(
    demo: DemoRun, db: duckdb.DuckDBPyConnection, reports: Reports, tmp_path
) -> None:
    model = "anthropic/claude-sonnet-4-20250514"
    out = tmp_path / "policy.csv"
    cli(
        "report", "--repo", reports.repo, "--tenant", reports.tenant, "--since", str(reports.since),
        "--policy-model", model, "--policy-model", "openai/gpt-4o-mini", "--output", str(out),
        home=demo.home, cwd=tmp_path,
    )  # fmt: skip
    rows = {r["metric"]: r for r in csv.DictReader(out.open())}
    counts = mart_rows(
        db,
        """
        select count(*) filter (where model in (?, 'openai/gpt-4o-mini')) as on_policy, count(*) as n
        from marts.sessions where tenant_id = ? and repo_slug = ?
        """,
        [model, reports.tenant, reports.repo],
    )[0]
    assert 0 < counts["on_policy"] < counts["n"]
    assert float(rows["model_selection_accuracy"]["value"]) == pytest.approx(
        counts["on_policy"] / counts["n"]
    )
    assert rows["model_selection_accuracy"]["note"] == f"policy models: {model}, openai/gpt-4o-mini"


def test_lag_days_limits_the_lags_shown_not_the_adjustment(demo: DemoRun, reports: Reports, tmp_path) -> None:
    out = tmp_path / "lag2.json"
    cli(
        "report", "--repo", reports.repo, "--tenant", reports.tenant, "--since", str(reports.since),
        "--lag-days", "2", "--output", str(out),
        home=demo.home, cwd=tmp_path,
    )  # fmt: skip
    doc = json.loads(out.read_text())
    tests = doc["ai_outcome_association"]["tests"]
    assert {t["lag_days"] for t in tests} == {0, 1, 2}
    assert len(tests) == 4 * 3 * 3
    full = {
        (t["x_metric"], t["y_metric"], t["lag_days"]): t
        for t in reports.json["ai_outcome_association"]["tests"]
    }
    for t in tests:
        assert (
            t["pearson_p_adjusted"]
            == full[(t["x_metric"], t["y_metric"], t["lag_days"])]["pearson_p_adjusted"]
        )
    assert doc["metadata"]["lag_days"] == 2
    assert (
        doc["multiple_comparison_adjustment"]["family_size"]
        == (reports.json["multiple_comparison_adjustment"]["family_size"])
    )


def test_repository_slug_is_case_insensitive(demo: DemoRun, reports: Reports, tmp_path: Path) -> None:
    """GitHub slugs are case-insensitive and the loaders store them in lower case: `--repo ACME/WEB`
    gives the very report `--repo acme/web` gives."""
    out = tmp_path / "upper.csv"
    cli(
        "report", "--repo", reports.repo.upper(), "--tenant", reports.tenant, "--since", str(reports.since),
        "--output", str(out),
        home=demo.home, cwd=tmp_path,
    )  # fmt: skip
    assert reports.repo != reports.repo.upper()
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == reports.csv_rows

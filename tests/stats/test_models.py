"""dbt-level checks of the statistics marts built by `prodlens demo` (dbt Python models over prodlens.stats):
marts.correlation_series, marts.correlation_cache and marts.effect_sizes are populated, typed, free of NaN,
documented, wired to the library as documented, and follow their vars."""

from __future__ import annotations

import math
import shutil
from datetime import timedelta
from typing import Any

import duckdb
import pandas as pd
import pytest
import yaml

from prodlens.home import Home
from prodlens.stats import correlations, daily_series, effect_sizes
from prodlens.stats.correlation import CORRELATION_COLUMN_DESCRIPTIONS, X_METRICS, Y_METRICS
from tests.conftest import REPO_ROOT
from tests.report.demo_run import DemoRun, cli, mart_rows

STATS_YML = REPO_ROOT / "models" / "marts" / "stats" / "_stats__models.yml"

CACHE_TYPES = {
    "tenant_id": "VARCHAR",
    "repo_slug": "VARCHAR",
    "x_metric": "VARCHAR",
    "y_metric": "VARCHAR",
    "lag_days": "INTEGER",
    "correlation_date": "DATE",
    "window_start": "DATE",
    "window_end": "DATE",
    "sample_size": "INTEGER",
    "raw_sample_size": "INTEGER",
    **{
        name: "DOUBLE"
        for name in (
            "effective_n",
            "pearson_r",
            "pearson_p",
            "spearman_r",
            "spearman_p",
            "raw_pearson_r",
            "raw_pearson_p",
            "raw_spearman_r",
            "raw_spearman_p",
            "pearson_p_adjusted",
            "spearman_p_adjusted",
            "fdr",
        )
    },
    "significant": "BOOLEAN",
    "detrended": "BOOLEAN",
    "prewhitened": "BOOLEAN",
    "note": "VARCHAR",
    "created_at": "TIMESTAMP WITH TIME ZONE",
}
EFFECT_TYPES = {
    "tenant_id": "VARCHAR",
    "metric": "VARCHAR",
    "model": "VARCHAR",
    "value": "DOUBLE",
    "cohens_d": "DOUBLE",
    "ci_low": "DOUBLE",
    "ci_high": "DOUBLE",
    "n_group_a": "BIGINT",
    "n_group_b": "BIGINT",
    "n": "BIGINT",
    "interpretation": "VARCHAR",
    "note": "VARCHAR",
    "as_of": "DATE",
    "created_at": "TIMESTAMP WITH TIME ZONE",
}


@pytest.fixture(scope="module")
def db(demo: DemoRun) -> duckdb.DuckDBPyConnection:
    con = demo.connect()
    yield con
    con.close()


def types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {r["column_name"]: r["column_type"] for r in mart_rows(con, f"describe marts.{table}")}


def nan_count(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> int:
    checks = " + ".join(f"count(*) filter (where isnan({c}) or isinf({c}))" for c in columns)
    return con.cursor().execute(f"select {checks} from marts.{table}").fetchone()[0]


def test_marts_are_typed_as_declared(db: duckdb.DuckDBPyConnection) -> None:
    assert types(db, "correlation_cache") == CACHE_TYPES
    assert types(db, "effect_sizes") == EFFECT_TYPES
    assert types(db, "correlation_series") == {
        "tenant_id": "VARCHAR",
        "repo_slug": "VARCHAR",
        "event_date": "DATE",
        "requests": "BIGINT",
        "active_developers": "BIGINT",
        "total_tokens": "DOUBLE",
        "cost_usd": "DOUBLE",
        "commits": "BIGINT",
        "merged_prs": "BIGINT",
        "median_merge_hours": "DOUBLE",
    }


def test_correlation_series_is_a_zero_filled_spine(db: duckdb.DuckDBPyConnection) -> None:
    pairs = mart_rows(
        db,
        """
        select s.tenant_id, s.repo_slug, count(*) as days, min(event_date) as first, max(event_date) as last,
               sum(requests) as requests, count(*) filter (where requests = 0) as quiet_days,
               any_value(r.n) as sessions
        from marts.correlation_series as s
        join (select tenant_id, repo_slug, count(*) as n from marts.sessions group by all) as r
          using (tenant_id, repo_slug)
        group by all
        """,
    )
    # only the pairs entitled to their repository's GitHub figures get a series (acme's two repositories)
    expected_pairs = mart_rows(
        db,
        "select distinct tenant_id, repo_slug from marts.sessions where repo_slug is not null "
        "and (tenant_id, repo_slug) in (select (tenant_id, repo_slug) from marts.repository_entitlements)",
    )
    assert len(pairs) == len(expected_pairs) == 2
    for pair in pairs:
        assert pair["days"] == (pair["last"] - pair["first"]).days + 1
        assert pair["requests"] == pair["sessions"], "every request of the pair is counted once"
    # the spine runs from the first to the last activity: a request of the pair, or a commit or merge of
    # the repository; daily_github_metrics' zero rows up to the sync date do not extend it
    for pair in pairs:
        [bounds] = mart_rows(
            db,
            """
            select min(day) as first, max(day) as last from (
                select event_date as day from marts.sessions where tenant_id = ? and repo_slug = ?
                union all
                select event_date from marts.daily_github_metrics
                where repo_slug = ? and (commit_count > 0 or merged_pr_count > 0)
            )
            """,
            [pair["tenant_id"], pair["repo_slug"], pair["repo_slug"]],
        )
        assert (pair["first"], pair["last"]) == (bounds["first"], bounds["last"])
    [padded] = mart_rows(db, "select max(event_date) as last from marts.daily_github_metrics")
    assert max(p["last"] for p in pairs) < padded["last"], "the demo's GitHub days run on to the sync date"


def test_correlation_series_is_the_library_on_the_requests(db: duckdb.DuckDBPyConnection) -> None:
    """The model sums requests per tenant, repository, day and developer before daily_series: the mart is
    the library's series of the single requests."""
    requests = (
        db.cursor()
        .execute(
            "select tenant_id, repo_slug, event_date, developer_id, total_tokens, cost_usd from marts.sessions "
            "where (tenant_id, repo_slug) in (select (tenant_id, repo_slug) from marts.repository_entitlements)"
        )
        .df()
    )
    github = (
        db.cursor()
        .execute(
            "select repo_slug, event_date, commit_count, merged_pr_count, median_merge_hours "
            "from marts.daily_github_metrics"
        )
        .df()
    )
    expected = daily_series(requests, github)
    mart = mart_rows(db, "select * from marts.correlation_series order by tenant_id, repo_slug, event_date")
    assert len(mart) == len(expected) > 0
    for got, want in zip(mart, expected.to_dict("records"), strict=True):
        assert {k: got[k] for k in ("tenant_id", "repo_slug", "event_date")} == {
            k: want[k] for k in ("tenant_id", "repo_slug", "event_date")
        }
        for column in ("requests", "active_developers", "commits", "merged_prs"):
            assert got[column] == want[column], column
        for column in ("total_tokens", "cost_usd", "median_merge_hours"):
            if want[column] is None:
                assert got[column] is None
            else:
                assert got[column] == pytest.approx(want[column], rel=1e-12), column


def test_correlation_cache_is_populated_without_nan(db: duckdb.DuckDBPyConnection) -> None:
    pairs = mart_rows(db, "select distinct tenant_id, repo_slug from marts.correlation_series")
    grid = mart_rows(
        db,
        """
        select tenant_id, repo_slug, count(*) as n, count(distinct (x_metric, y_metric, lag_days)) as k,
               min(lag_days) as lo, max(lag_days) as hi, count(pearson_r) as tested,
               count(distinct correlation_date) as dates
        from marts.correlation_cache group by all
        """,
    )
    assert len(grid) == len(pairs)
    for row in grid:
        assert row["n"] == row["k"] == len(X_METRICS) * len(Y_METRICS) * 8
        assert (row["lo"], row["hi"], row["dates"]) == (0, 7, 1)
    assert sum(r["tested"] for r in grid) > 0, "some tests have enough days"
    doubles = [c for c, t in CACHE_TYPES.items() if t == "DOUBLE"]
    assert nan_count(db, "correlation_cache", doubles) == 0
    untested = mart_rows(db, "select * from marts.correlation_cache where pearson_r is null")
    assert untested and all(r["note"] for r in untested)
    assert all(
        r["pearson_p"] is None and r["pearson_p_adjusted"] is None and not r["significant"] for r in untested
    )
    bad = (
        db.cursor()
        .execute(
            """
        select count(*) from marts.correlation_cache
        where significant != coalesce(pearson_p_adjusted < fdr, false)
           or pearson_p_adjusted < pearson_p - 1e-12 or abs(pearson_r) > 1 or not detrended
        """
        )
        .fetchone()[0]
    )
    assert bad == 0


def test_correlation_cache_is_the_library_on_the_series(db: duckdb.DuckDBPyConnection) -> None:
    """The model passes marts.correlation_series and the default vars to prodlens.stats.correlations."""
    series = db.cursor().execute("select * from marts.correlation_series").df()
    mart = db.cursor().execute("select * from marts.correlation_cache").df()
    expected = correlations(
        series,
        max_lag_days=7,
        min_sample_size=14,
        detrend=True,
        fdr=0.05,
        created_at=mart["created_at"].iloc[0],
    )
    key = ["tenant_id", "repo_slug", "x_metric", "y_metric", "lag_days"]
    merged = expected.merge(mart.astype({"lag_days": "int64"}), on=key, suffixes=("", "_mart"))
    assert len(merged) == len(expected) == len(mart)
    for column in ("pearson_r", "pearson_p_adjusted", "spearman_r", "raw_pearson_r", "sample_size", "note"):
        for want, got in zip(merged[column], merged[f"{column}_mart"], strict=True):
            if want is None:
                assert got is None or (isinstance(got, float) and math.isnan(got)) or pd.isna(got)
            elif isinstance(want, str):
                assert got == want
            else:
                assert float(got) == pytest.approx(float(want), rel=1e-9, abs=1e-12)
    last_days = pd.to_datetime(series["event_date"]).groupby(series["tenant_id"]).max().dt.date
    got = {
        (t, pd.Timestamp(d).date()) for t, d in zip(mart["tenant_id"], mart["correlation_date"], strict=True)
    }
    assert got == set(last_days.items()), "correlation_date defaults to each tenant's last day of the series"


def test_effect_sizes_are_populated_without_nan(db: duckdb.DuckDBPyConnection) -> None:
    rows = mart_rows(db, "select * from marts.effect_sizes order by tenant_id, metric, model")
    tenants = {r["tenant_id"] for r in mart_rows(db, "select distinct tenant_id from marts.sessions")}
    assert {r["tenant_id"] for r in rows} == tenants
    for tenant in tenants:
        mine = [r for r in rows if r["tenant_id"] == tenant]
        models = mart_rows(
            db,
            "select count(distinct coalesce(model, 'unknown')) as k from marts.sessions "
            "where tenant_id = ? and accepted is not null",
            [tenant],
        )[0]["k"]
        assert len(mine) == 3 + models
        latency = next(r for r in mine if r["metric"] == "latency_cohens_d")
        assert latency["value"] is not None and latency["interpretation"] is not None
        assert latency["ci_low"] < latency["value"] < latency["ci_high"]
    assert nan_count(db, "effect_sizes", ["value", "cohens_d", "ci_low", "ci_high"]) == 0
    assert all(r["value"] is not None or r["note"] for r in rows)


def test_effect_sizes_are_the_library_on_the_requests(db: duckdb.DuckDBPyConnection) -> None:
    requests = (
        db.cursor()
        .execute(
            "select tenant_id, event_date, model, accepted, latency_ms, total_tokens from marts.sessions"
        )
        .df()
    )
    mart = mart_rows(db, "select * from marts.effect_sizes")
    last_days = pd.to_datetime(requests["event_date"]).groupby(requests["tenant_id"]).max().dt.date
    assert {(r["tenant_id"], r["as_of"]) for r in mart} == set(last_days.items()), (
        "as_of defaults to each tenant's last request day"
    )
    expected = effect_sizes(requests, created_at=mart[0]["created_at"])
    by_key = {(r["tenant_id"], r["metric"], r["model"]): r for r in mart}
    assert len(by_key) == len(expected)
    for want in expected.to_dict("records"):
        got = by_key[(want["tenant_id"], want["metric"], want["model"])]
        assert got["as_of"] == want["as_of"]
        for column in ("value", "ci_low", "ci_high", "n", "n_group_a", "n_group_b"):
            if want[column] is None:
                assert got[column] is None
            else:
                assert got[column] == pytest.approx(want[column], rel=1e-12)


def test_every_column_is_documented() -> None:
    models = {m["name"]: m for m in yaml.safe_load(STATS_YML.read_text())["models"]}
    assert set(models) == {"correlation_series", "correlation_cache", "effect_sizes"}
    documented = {name: [c["name"] for c in m["columns"]] for name, m in models.items()}
    assert sorted(documented["correlation_cache"]) == sorted(CACHE_TYPES)
    assert sorted(documented["effect_sizes"]) == sorted(EFFECT_TYPES)
    for model in models.values():
        assert all(c.get("description") for c in model["columns"]), model["name"]
    cache_docs = {c["name"]: c["description"] for c in models["correlation_cache"]["columns"]}
    for name, text in CORRELATION_COLUMN_DESCRIPTIONS.items():
        assert cache_docs[name] == text, name
    keys = {
        name: next(
            t["unique_combination_of_columns"]["arguments"]["combination_of_columns"]
            for t in m["data_tests"]
            if isinstance(t, dict) and "unique_combination_of_columns" in t
        )
        for name, m in models.items()
    }
    assert keys == {
        "correlation_series": ["tenant_id", "repo_slug", "event_date"],
        "correlation_cache": [
            "tenant_id",
            "repo_slug",
            "x_metric",
            "y_metric",
            "lag_days",
            "correlation_date",
        ],
        "effect_sizes": ["tenant_id", "metric", "model"],
    }


@pytest.fixture(scope="module", params=["quoted", "typed"])
def rebuilt(
    demo: DemoRun, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Home, dict[str, Any]]:
    """A copy of the demo warehouse rebuilt with every statistics var changed, the dates given quoted
    ('2025-09-01', text) or typed (2025-09-01, which YAML reads as a date, as docs/report.md prints it)."""
    folder = tmp_path_factory.mktemp("stats-vars")
    home = Home(folder / "home")
    home.root.mkdir()
    shutil.copy2(demo.home.warehouse, home.warehouse)
    with demo.connect() as con:
        first, last = con.execute(
            "select min(event_date), max(event_date) from marts.correlation_series"
        ).fetchone()
    window = {"start": first + timedelta(days=10), "end": last - timedelta(days=5)}
    as_of = window["end"] - timedelta(days=2)
    q = "'" if request.param == "quoted" else ""
    variables = (
        f"{{max_lag_days: 3, min_sample_size: 30, correlation_detrend: false, correlation_fdr: 0.1, "
        f"stats_window_start: {q}{window['start']}{q}, stats_window_end: {q}{window['end']}{q}, "
        f"stats_as_of: {q}{as_of}{q}}}"
    )
    cli(
        "build", "--", "--select", "correlation_series", "correlation_cache", "effect_sizes", "--vars", variables,
        home=home, cwd=folder, in_process=False,
    )  # fmt: skip
    return home, {**window, "as_of": as_of}


def test_vars_change_the_models(rebuilt: tuple[Home, dict[str, Any]]) -> None:
    home, expected = rebuilt
    con = duckdb.connect(str(home.published), read_only=True)
    try:
        cache = mart_rows(con, "select * from marts.correlation_cache")
        series = mart_rows(
            con, "select min(event_date) as lo, max(event_date) as hi from marts.correlation_series"
        )
        effects = mart_rows(con, "select distinct as_of from marts.effect_sizes")
    finally:
        con.close()
    assert {r["lag_days"] for r in cache} == {0, 1, 2, 3}
    assert {r["correlation_date"] for r in cache} == {expected["as_of"]}
    assert {r["fdr"] for r in cache} == {0.1}
    assert not any(r["detrended"] for r in cache)
    tested = [r for r in cache if r["pearson_r"] is not None]
    assert tested and all(r["pearson_r"] == r["raw_pearson_r"] for r in tested), (
        "no detrending: raw = reported"
    )
    assert all(r["sample_size"] >= 30 for r in tested)
    assert all(
        r["note"].startswith("too few days")
        for r in cache
        if r["pearson_r"] is None and r["sample_size"] < 30
    )
    assert series[0]["lo"] >= expected["start"] and series[0]["hi"] <= expected["end"]
    assert all(expected["start"] <= r["window_start"] and r["window_end"] <= expected["end"] for r in cache)
    assert effects == [{"as_of": expected["as_of"]}]


def test_demo_home_is_untouched_by_the_rebuild(demo: DemoRun, rebuilt: tuple[Home, dict[str, Any]]) -> None:
    assert rebuilt[0].root != demo.home.root
    with demo.connect() as con:
        assert con.execute("select max(lag_days) from marts.correlation_cache").fetchone()[0] == 7

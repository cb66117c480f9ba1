"""The column_values test (macros/tests/column_values.sql): one node per model for its not-null, range,
accepted-value and row-expression checks, failing on exactly the rows and columns that break them."""

from __future__ import annotations

from pathlib import Path

import duckdb

from prodlens.home import Home
from tests.conftest import prodlens, tampered_copy
from tests.report.demo_run import DemoRun


def run_test(home: Home, name: str) -> tuple[int, list[tuple]]:
    """Run one data test; its exit code and the failures it stored in schema dq, counted per check."""
    proc = prodlens("build", "--", "--select", name, home=home, check=False)
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        failures = con.execute(
            f"select failing_column, failure, count(*) from dq.{name} group by all order by all"
        ).fetchall()
    finally:
        con.close()
    return proc.returncode, failures


def test_a_clean_build_passes_with_nulls_and_bounds_allowed(demo: DemoRun, tmp_path: Path) -> None:
    # pearson_r is null where the correlation is degenerate (the demo has such rows: nulls pass a range);
    # a value on either bound is inside it
    home = tampered_copy(
        demo.home,
        tmp_path,
        [
            "update marts.correlation_cache set pearson_r = 1 where lag_days = 0",
            "update marts.correlation_cache set pearson_r = -1 where lag_days = 1",
        ],
    )
    con = duckdb.connect(str(home.warehouse), read_only=True)
    assert con.execute("select count(*) from marts.correlation_cache where pearson_r is null").fetchone() != (
        0,
    )
    con.close()
    assert run_test(home, "correlation_cache_column_values") == (0, [])


def test_each_broken_check_fails_with_its_column_and_rows(demo: DemoRun, tmp_path: Path) -> None:
    con = duckdb.connect(str(demo.home.warehouse), read_only=True)
    lag0, lag1 = (
        con.execute(f"select count(*) from marts.correlation_cache where lag_days = {lag}").fetchone()[0]
        for lag in (0, 1)
    )
    con.close()
    assert lag0 > 0 and lag1 > 0
    home = tampered_copy(
        demo.home,
        tmp_path,
        [
            "update marts.correlation_cache set pearson_r = 1.5 where lag_days = 0",
            "update marts.correlation_cache set x_metric = 'bogus' where lag_days = 1",
            "update marts.correlation_cache set tenant_id = null, effective_n = 2 "
            "where rowid = (select min(rowid) from marts.correlation_cache where effective_n is not null)",
            # a row expression: significance that disagrees with the adjusted p-value
            "update marts.correlation_cache set significant = not significant "
            "where rowid = (select max(rowid) from marts.correlation_cache)",
        ],
    )
    code, failures = run_test(home, "correlation_cache_column_values")
    assert code != 0
    assert failures == [
        ("effective_n", "outside [3, ]", 1),
        ("pearson_r", "outside [-1, 1]", lag0),
        ("significant_matches_fdr", "not true: significant = coalesce(pearson_p_adjusted < fdr, false)", 1),
        ("tenant_id", "is null", 1),
        ("x_metric", "not an accepted value", lag1),
    ]

"""`prodlens report`'s figures (prodlens.report.metrics.report_metrics) come from the same definition as
marts.report_metrics: for every mart row, the function returns the same values."""

from __future__ import annotations

import math
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from prodlens.report.metrics import ReportWindowError, metric_query, report_metrics
from tests.analytics.conftest import POLICY_MODELS, SampleBuild, connect, same_value


def _mart_rows(con) -> list[dict]:
    cursor = con.execute(
        "select * exclude (created_at, invocation_id) from marts.report_metrics order by all"
    )
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_every_mart_row_equals_the_report_for_its_window(sample_build: SampleBuild) -> None:
    con = connect(sample_build.published)
    rows = _mart_rows(con)
    assert {r["period_type"] for r in rows} == {"week", "month", "all"}
    for row in rows:
        got = report_metrics(
            con, row["tenant_id"], row["repo_slug"], row["period_start"], row["period_end"], POLICY_MODELS
        )
        assert got["period_type"] == "custom"
        bad = {k: (v, got[k]) for k, v in row.items() if k != "period_type" and not same_value(v, got[k])}
        assert not bad, (
            f"{row['tenant_id']} {row['repo_slug']} {row['period_type']} {row['period_start']}: {bad}"
        )


def test_open_window_is_the_all_row(sample_build: SampleBuild) -> None:
    con = connect(sample_build.published)
    for row in (r for r in _mart_rows(con) if r["period_type"] == "all"):
        got = report_metrics(con, row["tenant_id"], row["repo_slug"], None, None, POLICY_MODELS)
        assert all(same_value(v, got[k]) for k, v in row.items() if k != "period_type")


def test_any_window_is_computed_from_the_window_rows(sample_build: SampleBuild) -> None:
    con = connect(sample_build.published)
    got = report_metrics(con, "acme", "acme/web", "2025-10-03", date(2025, 10, 9), ["gpt-4o-mini"])
    expected = con.execute(
        """
        select count(*), count(*) filter (where status = 'error'), sum(cost_usd),
               count(*) filter (where model like '%/gpt-4o-mini'), quantile_cont(latency_ms, 0.5),
               count(distinct developer_id), count(distinct date_trunc('hour', timezone('UTC', "timestamp")))
        from marts.sessions
        where tenant_id = 'acme' and repo_slug = 'acme/web' and event_date between '2025-10-03' and '2025-10-09'
        """
    ).fetchone()
    requests, errors, cost, policy, median, developers, hours = expected
    assert got["request_count"] == requests > 0
    assert math.isclose(got["error_rate"], errors / requests)
    assert math.isclose(got["total_cost_usd"], cost)
    assert math.isclose(got["model_selection_accuracy"], policy / requests)
    assert math.isclose(got["median_latency_ms"], median)
    assert (got["active_developers"], got["active_hours"]) == (developers, hours)
    assert developers > 1 and hours > developers
    assert got["weeks_in_period"] == 2  # Friday to Thursday touches two calendar weeks
    # without policy models there is no accuracy figure
    assert (
        report_metrics(con, "acme", "acme/web", "2025-10-03", "2025-10-09")["model_selection_accuracy"]
        is None
    )


def test_bad_windows_raise_clear_errors(sample_build: SampleBuild) -> None:
    con = connect(sample_build.published)
    with pytest.raises(ReportWindowError, match="no requests in repository"):
        report_metrics(con, "acme", "globex/app", None, None)
    with pytest.raises(ReportWindowError, match="no requests"):
        report_metrics(con, "nobody", "acme/web", None, None)
    with pytest.raises(ReportWindowError, match="before since"):
        report_metrics(con, "acme", "acme/web", "2025-10-09", "2025-10-01")
    with pytest.raises(ReportWindowError, match="YYYY-MM-DD"):
        report_metrics(con, "acme", "acme/web", "last week", None)
    # an empty window inside the data is not an error: zero requests, null rates
    empty = report_metrics(con, "acme", "acme/web", "2030-01-01", "2030-01-31")
    assert empty["request_count"] == 0 and empty["error_rate"] is None


def test_the_published_definition_is_the_compiled_macro(sample_build: SampleBuild) -> None:
    sql = metric_query(connect(sample_build.published))
    for parameter in ("$tenant_id", "$repo_slug", "$since", "$until", "$policy_models"):
        assert parameter in sql
    assert '"marts"."report_daily_figures"' in sql and "warehouse" not in sql


def test_a_definition_from_another_build_is_refused(sample_build: SampleBuild, tmp_path: Path) -> None:
    """After a partial build the mart and the published definition could disagree: refuse to report."""
    copy = tmp_path / "prodlens.duckdb"
    shutil.copyfile(sample_build.published, copy)
    con = duckdb.connect(str(copy))
    con.execute("update marts.metric_queries set invocation_id = 'another-run'")
    with pytest.raises(LookupError, match="different dbt runs"):
        report_metrics(con, "acme", "acme/web", None, None)

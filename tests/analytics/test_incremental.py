"""A full refresh and incremental runs give identical analytics marts on the sample data."""

from __future__ import annotations

from datetime import timedelta

from tests.analytics.conftest import INCREMENTAL_MARTS, SampleBuild, differences

LOOKBACK_DAYS = 3  # dbt_project.yml var analytics_lookback_days


def test_full_refresh_equals_incremental_runs(sample_build: SampleBuild) -> None:
    assert sample_build.incremental["daily_session_metrics"][1], "the sample build produced no rows"
    problems = differences(sample_build.incremental, sample_build.full_refresh)
    assert not problems, "\n".join(problems)


def test_each_batch_priced_only_its_own_requests(sample_build: SampleBuild) -> None:
    """The request-grain tables were built incrementally: the rows of each of the three batches were priced
    by the build after their load, and kept by the builds after that."""
    assert sample_build.pricing_runs == 3
    assert sample_build.incremental["marts.sessions"][1]


def test_incremental_run_rewrote_only_the_look_back_window(sample_build: SampleBuild) -> None:
    """Batch B only adds later days: its build keeps batch A's rows before the look-back window."""
    first_allowed = sample_build.last_day_of_batch_a - timedelta(days=LOOKBACK_DAYS)
    for mart in INCREMENTAL_MARTS:
        runs, first_rewritten = sample_build.rebuilt_after_batch_b[mart]
        assert runs == 2, f"{mart}: expected rows from two builds, got {runs}"
        assert first_rewritten >= first_allowed, f"{mart}: rewrote from {first_rewritten}"


def test_late_data_reached_the_incremental_marts(sample_build: SampleBuild) -> None:
    """Batch C's September rows (older than the look-back window) are in the incremental marts."""
    columns, rows = sample_build.incremental["usage_analytics"]
    tenants = {row[columns.index("tenant_id")] for row in rows}
    assert "globex" in tenants  # only batch C carries tenant globex
    columns, rows = sample_build.incremental["daily_session_metrics"]
    september_globex = [
        r
        for r in rows
        if r[columns.index("tenant_id")] == "globex" and r[columns.index("event_date")].month == 9
    ]
    assert september_globex

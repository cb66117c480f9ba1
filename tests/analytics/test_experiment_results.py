"""marts.experiment_results is prodlens.stats.experiments.experiment_results over the experiment requests."""

from __future__ import annotations

from datetime import UTC, datetime

from prodlens.stats.experiments import EXPERIMENT_COLUMNS, experiment_results
from tests.analytics.conftest import SampleBuild, connect, same_value


def test_mart_equals_the_statistics_module(sample_build: SampleBuild) -> None:
    con = connect(sample_build.published)
    requests = con.execute(
        "select tenant_id, experiment_id, variant, status, latency_ms, cost_usd from marts.sessions "
        "where experiment_id is not null and variant is not null"
    ).df()
    expected = experiment_results(requests, control_variant="control", created_at=datetime.now(UTC))
    columns = [c for c in EXPERIMENT_COLUMNS if c != "created_at"]
    mart = con.execute(f"select {', '.join(columns)} from marts.experiment_results order by all").fetchall()
    want = sorted(tuple(row) for row in expected[columns].itertuples(index=False, name=None))
    assert len(mart) == len(want) > 0
    for got_row, want_row in zip(mart, want, strict=True):
        assert all(same_value(a, b) for a, b in zip(got_row, want_row, strict=True)), (got_row, want_row)
    # the non-control variants carry both p-values
    assert any(row[columns.index("success_rate_p_value")] is not None for row in mart)

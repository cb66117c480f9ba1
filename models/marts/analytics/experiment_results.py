"""marts.experiment_results: one row per tenant, experiment and variant, compared with the control variant.

The statistics (two-proportion z-test on success rate, Welch's t-test on latency, their 95% intervals, the
sample-ratio-mismatch chi-square against var experiment_variant_shares) live in prodlens/stats/experiments.py,
which pytest covers; this model only feeds it the experiment requests.
"""

import ast
from datetime import UTC, datetime


def model(dbt, session):
    dbt.config(materialized="table")
    from prodlens.stats import experiment_results

    control_variant = dbt.config.get("control_variant") or "control"
    shares = dbt.config.get("experiment_variant_shares")
    run_started_at = dbt.config.get("run_started_at")
    created_at = datetime.fromisoformat(run_started_at) if run_started_at else datetime.now(UTC)

    requests = (
        dbt.ref("int_analytics__requests")
        .filter("experiment_id is not null and variant is not null")
        .project("tenant_id, experiment_id, variant, status, latency_ms, cost_usd")
        .df()
    )
    if isinstance(shares, str):  # rendered through Jinja as text: a dict literal, or none
        shares = None if shares.strip().lower() in ("", "none", "null") else ast.literal_eval(shares)
    results = experiment_results(
        requests, control_variant=control_variant, shares=shares or None, created_at=created_at
    )
    # explicit column types: a column that is all None in pandas would otherwise have no type
    session.register("experiment_results_frame", results)
    typed = session.sql(
        """
        select
            cast(tenant_id as varchar) as tenant_id,
            cast(experiment_id as varchar) as experiment_id,
            cast(variant as varchar) as variant,
            cast(total_runs as bigint) as total_runs,
            cast(avg_latency_ms as double) as avg_latency_ms,
            cast(avg_cost as double) as avg_cost,
            cast(success_count as bigint) as success_count,
            cast(success_rate as double) as success_rate,
            cast(control_variant as varchar) as control_variant,
            cast(success_rate_diff as double) as success_rate_diff,
            cast(avg_latency_diff_ms as double) as avg_latency_diff_ms,
            cast(avg_cost_diff as double) as avg_cost_diff,
            cast(success_rate_p_value as double) as success_rate_p_value,
            cast(latency_p_value as double) as latency_p_value,
            cast(success_rate_diff_ci_low as double) as success_rate_diff_ci_low,
            cast(success_rate_diff_ci_high as double) as success_rate_diff_ci_high,
            cast(avg_latency_diff_ci_low_ms as double) as avg_latency_diff_ci_low_ms,
            cast(avg_latency_diff_ci_high_ms as double) as avg_latency_diff_ci_high_ms,
            cast(srm_p_value as double) as srm_p_value,
            cast(sample_ratio_mismatch as boolean) as sample_ratio_mismatch,
            cast(note as varchar) as note,
            cast(created_at as timestamptz) as created_at,
        from experiment_results_frame
        """
    ).df()
    session.unregister("experiment_results_frame")
    return typed

"""marts.correlation_series: the daily series behind marts.correlation_cache, one row per tenant, repository
and day of a continuous date spine (days without activity are zeros, not dropped).

The logic is prodlens.stats.correlation.daily_series (covered by pytest); this model only feeds it requests
(marts.sessions summed per tenant, repository, day and developer, only for the tenant/repository pairs of
marts.repository_entitlements) and per-repository
GitHub days (marts.daily_github_metrics), restricted to the optional
window vars stats_window_start / stats_window_end, and fixes the column types.
"""

# dbt writes a Python model's config into this module as Python literals: an unquoted date var
# (`--vars '{stats_window_start: 2025-09-01}'`, which YAML reads as a date) becomes `datetime.date(...)`,
# so the name `datetime` must be the module here.
import datetime  # noqa: F401 (see above)

import pyarrow as pa

SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("repo_slug", pa.string()),
        ("event_date", pa.date32()),
        ("requests", pa.int64()),
        ("active_developers", pa.int64()),
        ("total_tokens", pa.float64()),
        ("cost_usd", pa.float64()),
        ("commits", pa.int64()),
        ("merged_prs", pa.int64()),
        ("median_merge_hours", pa.float64()),
    ]
)


def _to_arrow(frame, schema):
    """An Arrow table with exactly `schema`: explicit types, so all-null columns keep their type."""
    return pa.table(
        {field.name: pa.array(frame[field.name].tolist(), type=field.type) for field in schema}, schema=schema
    )


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt finds the config keys a Python model uses by parsing its dbt.config.get() calls, and misses calls
    # nested in expressions such as int(x or 7): read every key in a plain assignment.
    window_start = dbt.config.get("stats_window_start")
    window_end = dbt.config.get("stats_window_end")
    # Import from the package, not a submodule: dbt runs models in threads, and a thread importing a
    # submodule first can deadlock with one importing the package (Python's per-module import locks).
    from prodlens.stats import config_day, daily_series

    # Only the (tenant, repository) pairs entitled to GitHub outcomes get a series: a repository tag alone
    # would pair one tenant's AI use with another tenant's commits.
    entitled = dbt.ref("repository_entitlements").project("tenant_id, repo_slug").distinct().df()
    # summed per tenant, repository, day and developer in DuckDB (money exactly, as macro exact_sum does):
    # daily_series takes the counts in request_count, and pandas never holds a row per request
    keys = "tenant_id, repo_slug, event_date, developer_id"
    requests = (
        dbt.ref("sessions")
        .filter("tenant_id is not null and repo_slug is not null")
        .aggregate(
            f"{keys}, count(*) as request_count, sum(total_tokens) as total_tokens, "
            "cast(sum(cast(cost_usd as decimal(38, 12))) as double) as cost_usd",
            keys,
        )
        .df()
        .merge(entitled, on=["tenant_id", "repo_slug"], how="inner")
    )
    github = (
        dbt.ref("daily_github_metrics")
        .project("repo_slug, event_date, commit_count, merged_pr_count, median_merge_hours")
        .df()
    )
    series = daily_series(
        requests,
        github,
        window_start=config_day(window_start, "stats_window_start"),
        window_end=config_day(window_end, "stats_window_end"),
    )
    return _to_arrow(series, SCHEMA)

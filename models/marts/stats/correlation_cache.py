"""marts.correlation_cache: lagged Pearson and Spearman correlations of daily AI use against delivery
outcomes, per tenant and repository, with Benjamini–Hochberg adjusted p-values.

The statistics are prodlens.stats.correlation.correlations (covered by pytest, since dbt unit tests do not
run Python models); this model feeds it marts.correlation_series and the vars max_lag_days (7),
min_sample_size (14), correlation_detrend (true: weekday-and-trend residuals), correlation_prewhiten
(false) and correlation_fdr (0.05), and fixes
the column types so that all-null columns stay typed.
"""

# dbt writes a Python model's config into this module as Python literals: an unquoted date var
# (`--vars '{stats_window_start: 2025-09-01}'`, which YAML reads as a date) becomes `datetime.date(...)`,
# so the name `datetime` must be the module here.
import datetime

import pyarrow as pa

SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("repo_slug", pa.string()),
        ("x_metric", pa.string()),
        ("y_metric", pa.string()),
        ("lag_days", pa.int32()),
        ("correlation_date", pa.date32()),
        ("window_start", pa.date32()),
        ("window_end", pa.date32()),
        ("sample_size", pa.int32()),
        ("effective_n", pa.float64()),
        ("pearson_r", pa.float64()),
        ("pearson_p", pa.float64()),
        ("spearman_r", pa.float64()),
        ("spearman_p", pa.float64()),
        ("raw_sample_size", pa.int32()),
        ("raw_pearson_r", pa.float64()),
        ("raw_pearson_p", pa.float64()),
        ("raw_spearman_r", pa.float64()),
        ("raw_spearman_p", pa.float64()),
        ("pearson_p_adjusted", pa.float64()),
        ("spearman_p_adjusted", pa.float64()),
        ("significant", pa.bool_()),
        ("fdr", pa.float64()),
        ("detrended", pa.bool_()),
        ("prewhitened", pa.bool_()),
        ("note", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)


def _text(value):
    text = "" if value is None else str(value).strip()
    return None if text.lower() in ("", "none", "null") else text


def _flag(value, default=True):
    text = _text(value)
    return default if text is None else text.lower() in ("true", "1", "yes")


def _to_arrow(frame, schema):
    """An Arrow table with exactly `schema`: explicit types, so all-null columns keep their type."""
    return pa.table(
        {field.name: pa.array(frame[field.name].tolist(), type=field.type) for field in schema}, schema=schema
    )


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt finds the config keys a Python model uses by parsing its dbt.config.get() calls, and misses calls
    # nested in expressions such as int(x or 7): read every key in a plain assignment.
    max_lag_days = dbt.config.get("max_lag_days")
    min_sample_size = dbt.config.get("min_sample_size")
    detrend = dbt.config.get("correlation_detrend")
    prewhiten = dbt.config.get("correlation_prewhiten")
    fdr = dbt.config.get("correlation_fdr")
    as_of = dbt.config.get("stats_as_of")
    window_end = dbt.config.get("stats_window_end")
    run_started_at = dbt.config.get("run_started_at")
    # Import from the package, not a submodule: dbt runs models in threads, and a thread importing a
    # submodule first can deadlock with one importing the package (Python's per-module import locks).
    from prodlens.stats import config_day, correlations

    series = dbt.ref("correlation_series").df()
    started = _text(run_started_at)
    fdr = float(_text(fdr) or 0.05)
    result = correlations(
        series,
        max_lag_days=int(_text(max_lag_days) or 7),
        min_sample_size=int(_text(min_sample_size) or 14),
        detrend=_flag(detrend),
        prewhiten=_flag(prewhiten, default=False),
        fdr=fdr,
        # the run's as-of date: var stats_as_of, else stats_window_end, else each tenant's own last day
        as_of=config_day(as_of, "stats_as_of") or config_day(window_end, "stats_window_end"),
        created_at=datetime.datetime.fromisoformat(started)
        if started
        else datetime.datetime.now(datetime.UTC),
    )
    result["fdr"] = fdr
    return _to_arrow(result, SCHEMA)

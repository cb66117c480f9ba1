"""marts.effect_sizes: effect sizes of AI use per tenant (long format: one row per tenant, metric and, for
model_acceptance_rate, model).

The statistics are prodlens.stats.effects.effect_sizes (covered by pytest, since dbt unit tests do not run
Python models): Hedges' g of latency for accepted vs. not-accepted requests with a 95% CI (tracked
requests only: `accepted` is null where the record carried no acceptance field), the token
efficiency ratio, Wilson 95% intervals of each model's acceptance rate, and session growth over the last
7 days against the 7 before. This model feeds it marts.sessions (restricted to the optional window vars
stats_window_start / stats_window_end; the untracked requests summed per tenant and day) and fixes the
column types.
"""

# dbt writes a Python model's config into this module as Python literals: an unquoted date var
# (`--vars '{stats_window_start: 2025-09-01}'`, which YAML reads as a date) becomes `datetime.date(...)`,
# so the name `datetime` must be the module here.
import datetime

import pyarrow as pa

SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("metric", pa.string()),
        ("model", pa.string()),
        ("value", pa.float64()),
        ("cohens_d", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("n_group_a", pa.int64()),
        ("n_group_b", pa.int64()),
        ("n", pa.int64()),
        ("interpretation", pa.string()),
        ("note", pa.string()),
        ("as_of", pa.date32()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)


def _text(value):
    text = "" if value is None else str(value).strip()
    return None if text.lower() in ("", "none", "null") else text


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
    as_of_var = dbt.config.get("stats_as_of")
    run_started_at = dbt.config.get("run_started_at")
    # Import from the package, not a submodule: dbt runs models in threads, and a thread importing a
    # submodule first can deadlock with one importing the package (Python's per-module import locks).
    from prodlens.stats import config_day, effect_sizes

    start = config_day(window_start, "stats_window_start")
    end = config_day(window_end, "stats_window_end")
    conditions = ["tenant_id is not null"]
    if start:
        conditions.append(f"event_date >= date '{start.isoformat()}'")
    if end:
        conditions.append(f"event_date <= date '{end.isoformat()}'")
    # tracked requests one by one (latency and tokens per request); the untracked ones, which count only
    # for session growth, as one row per tenant and day with their number in request_count
    sessions = dbt.ref("sessions").filter(" and ".join(conditions))
    tracked = sessions.filter("accepted is not null").project(
        "tenant_id, event_date, model, accepted, latency_ms, total_tokens, 1 as request_count"
    )
    untracked = sessions.filter("accepted is null").aggregate(
        "tenant_id, event_date, cast(null as varchar) as model, cast(null as boolean) as accepted, "
        "cast(null as double) as latency_ms, cast(null as bigint) as total_tokens, count(*) as request_count",
        "tenant_id, event_date",
    )
    requests = tracked.union(untracked).df()
    # As of var stats_as_of, else stats_window_end, else each tenant's own last day with requests.
    as_of = config_day(as_of_var, "stats_as_of") or end
    started = _text(run_started_at)
    created_at = datetime.datetime.fromisoformat(started) if started else datetime.datetime.now(datetime.UTC)
    result = effect_sizes(requests, as_of=as_of, created_at=created_at)
    return _to_arrow(result, SCHEMA)

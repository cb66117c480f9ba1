"""The ProdLens report's metrics for any window, from the SAME definition as `marts.report_metrics`.

Every report metric is defined once, in the dbt macro ``report_metrics_sql`` (macros/metrics/report_metrics.sql).
In one dbt run, that macro is compiled twice:

* into ``marts.report_metrics`` (windows: each week, month and the whole span of a tenant and repository);
* into ``marts.metric_queries`` as SQL text for ONE window given by query parameters
  (``$tenant_id``, ``$repo_slug``, ``$since``, ``$until``, ``$policy_models``).

Both are published together (atomically) in PRODLENS_HOME/prodlens.duckdb. :func:`report_metrics` reads the
SQL text from ``marts.metric_queries`` and executes it, so its figures are those of the mart by
construction: ``report_metrics(con, t, r, week_start, week_end, policy)`` equals the mart's ``week`` row,
and ``since=None, until=None`` gives the ``all`` row (with the policy models the mart was built with).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

import duckdb

from prodlens.dates import DateError, check_window, parse_day
from prodlens.warehouse import scalar

QUERY_NAME = "report_metrics_window"


class ReportWindowError(ValueError):
    """The requested report window cannot be computed (unknown tenant/repository, until before since)."""


def metric_query(con: duckdb.DuckDBPyConnection, name: str = QUERY_NAME) -> str:
    """The compiled SQL of a published metric query (from ``marts.metric_queries``).

    Raises LookupError when it is missing, or when marts.report_metrics was built by another dbt run (a
    partial build), since the two could then disagree.
    """
    try:
        row = con.execute(
            "select sql_text, invocation_id from marts.metric_queries where query_name = ?", [name]
        ).fetchone()
        built = con.execute("select distinct invocation_id from marts.report_metrics").fetchall()
    except duckdb.CatalogException:
        raise LookupError(
            "marts.metric_queries or marts.report_metrics is missing from this database: run `prodlens build` "
            "to publish the metric definitions"
        ) from None
    if row is None:
        raise LookupError(f"no metric query named {name!r} in marts.metric_queries; run `prodlens build`")
    if any(invocation != row[1] for (invocation,) in built):
        raise LookupError(
            "marts.report_metrics and marts.metric_queries come from different dbt runs; run `prodlens build` "
            "to rebuild both"
        )
    return row[0]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def report_metrics(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    repo_slug: str,
    since: dt.date | str | None,
    until: dt.date | str | None,
    policy_models: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Every ``marts.report_metrics`` figure for one tenant, repository and window of UTC days.

    ``since`` and ``until`` are inclusive dates; ``None`` means the pair's first / last activity day.
    ``policy_models`` are `provider/name` or bare model names (case-insensitive); with none,
    model_selection_accuracy is null. Returns one dict keyed by the mart's column names (``period_type``
    is ``custom``); rates are fractions, missing values None. Raises :class:`ReportWindowError` when the
    tenant has no request in the repository at all, or when until is before since.
    """
    try:
        since_d, until_d = parse_day(since, "since"), parse_day(until, "until")
        check_window(since_d, until_d)
    except DateError as exc:
        raise ReportWindowError(str(exc)) from None
    known = scalar(
        con,
        "select count(*) from marts.report_daily_figures where tenant_id = ? and repo_slug = ?",
        [tenant_id, repo_slug],
    )
    if not known:
        raise ReportWindowError(f"tenant {tenant_id!r} has no requests in repository {repo_slug!r}")
    cursor = con.execute(
        metric_query(con),
        {
            "tenant_id": tenant_id,
            "repo_slug": repo_slug,
            "since": since_d,
            "until": until_d,
            "policy_models": [str(m) for m in (policy_models or [])],
        },
    )
    columns = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    if row is None:  # the window query aggregates, so it always returns one row
        raise ReportWindowError(f"the metric query returned no row for {tenant_id!r} / {repo_slug!r}")
    return {c: _clean(v) for c, v in zip(columns, row, strict=True)}

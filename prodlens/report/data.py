"""Reading one report's figures from the published database. Nothing here computes a statistic: the
metrics come from the compiled definition of marts.report_metrics (prodlens.report.metrics), correlations and
effect sizes from their marts; the chart series are plain daily rows of marts (sums by day and model
for the cost chart)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from prodlens.home import Home
from prodlens.report.metrics import ReportWindowError, report_metrics
from prodlens.report.request import ReportError, ReportRequest
from prodlens.stats.correlation import X_METRICS, Y_METRICS
from prodlens.warehouse import connect, tables_in

REQUIRED = (
    "sessions",
    "report_daily_figures",
    "metric_queries",
    "report_metrics",
    "correlation_cache",
    "correlation_series",
    "effect_sizes",
)


@dataclass(frozen=True)
class Association:
    """One row of marts.correlation_cache."""

    x_metric: str
    y_metric: str
    lag_days: int
    sample_size: int
    pearson_r: float | None
    pearson_p: float | None
    pearson_p_adjusted: float | None
    spearman_r: float | None
    spearman_p: float | None
    spearman_p_adjusted: float | None
    raw_pearson_r: float | None
    raw_pearson_p: float | None
    raw_spearman_r: float | None
    raw_spearman_p: float | None
    significant: bool
    detrended: bool
    fdr: float
    note: str | None
    window_start: date
    window_end: date
    correlation_date: date


@dataclass(frozen=True)
class Effect:
    """One row of marts.effect_sizes."""

    metric: str
    model: str | None
    value: float | None
    cohens_d: float | None
    ci_low: float | None
    ci_high: float | None
    n_group_a: int | None
    n_group_b: int | None
    n: int | None
    interpretation: str | None
    note: str | None
    as_of: date


@dataclass(frozen=True)
class DailyCost:
    event_date: date
    model: str
    cost_usd: float
    requests: int


@dataclass(frozen=True)
class DailyLatency:
    """A daily row of marts.provider_performance (the tenant's requests of all repositories)."""

    event_date: date
    provider: str
    p50_ms: float | None
    p95_ms: float | None
    requests: int


@dataclass(frozen=True)
class DailyActivity:
    """A day of marts.correlation_series: the data the correlations were computed on."""

    event_date: date
    requests: int
    commits: int


@dataclass(frozen=True)
class Savings:
    """The tenant's marts.customer_roi_snapshots row at (or last before) the report's end."""

    snapshot_date: date
    total_savings_30d: float | None
    savings_percentage_30d: float | None
    total_cost_30d: float | None
    baseline_cost_30d: float | None


@dataclass(frozen=True)
class Family:
    """The Benjamini–Hochberg family of the associations: every non-null test of the tenant and repository
    in the build, all lags (the report may show fewer lags; their adjusted p-values stay those of the
    whole family)."""

    size: int
    significant: int
    fdr: float | None
    max_lag_days: int | None


@dataclass(frozen=True)
class ReportData:
    request: ReportRequest
    tenant_id: str
    metrics: dict[str, Any]
    associations: list[Association]
    family: Family
    effects: list[Effect]
    daily_cost: list[DailyCost]
    latency: list[DailyLatency] | None
    activity: list[DailyActivity]
    savings: Savings | None
    database: Path
    published_at: datetime | None
    generated_at: datetime

    @property
    def period_start(self) -> date:
        return self.metrics["period_start"]

    @property
    def period_end(self) -> date:
        return self.metrics["period_end"]

    def strongest(self, x_metric: str = "requests", y_metric: str = "commits") -> Association | None:
        """The shown lag of x against y with the largest |pearson_r| (None when every lag is degenerate)."""
        candidates = [
            a
            for a in self.associations
            if a.x_metric == x_metric and a.y_metric == y_metric and a.pearson_r is not None
        ]
        return max(candidates, key=lambda a: (abs(a.pearson_r or 0.0), -a.lag_days), default=None)


# --------------------------------------------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [{c: _clean(v) for c, v in zip(columns, row, strict=True)} for row in cursor.fetchall()]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _build(cls: type, row: dict[str, Any]) -> Any:
    return cls(**{f.name: row[f.name] for f in fields(cls)})


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return set(tables_in(con, "marts"))


def _listing(values: list[str], limit: int = 8) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def resolve_tenant(con: duckdb.DuckDBPyConnection, repo: str, tenant: str | None, tables: set[str]) -> str:
    """The tenant to report on; ReportError for an unknown repository or tenant, or an ambiguous choice."""
    by_tenant = {
        r["tenant_id"]: r["n"]
        for r in _rows(
            con,
            "select tenant_id, sum(request_count) as n from marts.report_daily_figures where repo_slug = ? "
            "group by all order by all",
            [repo],
        )
    }
    if not by_tenant:
        known = [r["repo_slug"] for r in _rows(con, _KNOWN_REPOS_SQL)]
        github = "pull_requests" in tables and bool(
            _rows(con, "select 1 as x from marts.pull_requests where repo_slug = ? limit 1", [repo])
        )
        if github:
            raise ReportError(
                f"repository {repo} has GitHub data but no AI requests; repositories with requests: "
                f"{_listing(known) or 'none'}"
            )
        raise ReportError(
            f"unknown repository {repo}: no requests or GitHub data for it; "
            f"known repositories: {_listing(known) or 'none (load data first)'}"
        )
    if tenant is None:
        if len(by_tenant) > 1:
            raise ReportError(
                f"repository {repo} has requests from several tenants ({_listing(sorted(by_tenant))}): "
                "choose one with --tenant"
            )
        return next(iter(by_tenant))
    if tenant not in by_tenant:
        tenants = [
            r["tenant_id"] for r in _rows(con, "select distinct tenant_id from marts.sessions order by 1")
        ]
        if tenant not in tenants:
            raise ReportError(f"unknown tenant {tenant!r}; known tenants: {_listing(tenants)}")
        raise ReportError(
            f"tenant {tenant!r} has no requests in {repo}; tenants with requests there: "
            f"{_listing(sorted(by_tenant))}"
        )
    return tenant


_KNOWN_REPOS_SQL = "select distinct repo_slug from marts.report_daily_figures order by 1"


def _associations(
    con: duckdb.DuckDBPyConnection, tenant: str, repo: str, lag_days: int | None
) -> tuple[list[Association], Family]:
    family_row = _rows(
        con,
        """
        select count(pearson_p) as size, count(*) filter (where significant) as significant,
               max(fdr) as fdr, max(lag_days) as max_lag_days
        from marts.correlation_cache
        where tenant_id = ? and repo_slug = ?
          and correlation_date = (
              select max(correlation_date) from marts.correlation_cache where tenant_id = ? and repo_slug = ?
          )
        """,
        [tenant, repo, tenant, repo],
    )[0]
    family = Family(
        size=family_row["size"],
        significant=family_row["significant"],
        fdr=family_row["fdr"],
        max_lag_days=family_row["max_lag_days"],
    )
    if lag_days is not None and family.max_lag_days is not None and lag_days > family.max_lag_days:
        raise ReportError(
            f"--lag-days {lag_days} is more than the lags in marts.correlation_cache (0 to "
            f"{family.max_lag_days}); rebuild with: prodlens build -- --vars '{{max_lag_days: {lag_days}}}'"
        )
    rows = _rows(
        con,
        """
        select *
        from marts.correlation_cache
        where tenant_id = ? and repo_slug = ? and lag_days <= ?
          and correlation_date = (
              select max(correlation_date) from marts.correlation_cache where tenant_id = ? and repo_slug = ?
          )
        order by list_position(?, x_metric), list_position(?, y_metric), lag_days
        """,
        [
            tenant,
            repo,
            lag_days if lag_days is not None else 2**31 - 1,
            tenant,
            repo,
            list(X_METRICS),
            list(Y_METRICS),
        ],
    )
    return [_build(Association, r) for r in rows], family


def _effects(con: duckdb.DuckDBPyConnection, tenant: str) -> list[Effect]:
    rows = _rows(
        con,
        """
        select * from marts.effect_sizes where tenant_id = ?
        order by list_position(
            ['latency_cohens_d', 'token_efficiency_ratio', 'model_acceptance_rate', 'session_growth_percent'],
            metric
        ), model
        """,
        [tenant],
    )
    return [_build(Effect, r) for r in rows]


def _daily_cost(
    con: duckdb.DuckDBPyConnection, tenant: str, repo: str, start: date, end: date
) -> list[DailyCost]:
    rows = _rows(
        con,
        """
        select event_date, coalesce(model, 'unknown') as model, cast(sum(cost_usd_sum) as double) as cost_usd,
               sum(request_count) as requests
        from marts.report_daily_figures
        where tenant_id = ? and repo_slug = ? and event_date between ? and ?
        group by all
        order by event_date, model
        """,
        [tenant, repo, start, end],
    )
    return [DailyCost(r["event_date"], r["model"], r["cost_usd"] or 0.0, r["requests"]) for r in rows]


def _latency(
    con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date, tables: set[str]
) -> list[DailyLatency] | None:
    if "provider_performance" not in tables:
        return None
    rows = _rows(
        con,
        """
        select cast(period_start as date) as event_date, coalesce(provider, 'unknown') as provider,
               p50_duration_ms, p95_duration_ms, total_executions
        from marts.provider_performance
        where tenant_id = ? and aggregation_level = 'daily' and cast(period_start as date) between ? and ?
        order by provider, event_date
        """,
        [tenant, start, end],
    )
    return [
        DailyLatency(
            r["event_date"], r["provider"], r["p50_duration_ms"], r["p95_duration_ms"], r["total_executions"]
        )
        for r in rows
    ]


def _activity(
    con: duckdb.DuckDBPyConnection, tenant: str, repo: str, start: date, end: date
) -> list[DailyActivity]:
    rows = _rows(
        con,
        """
        select event_date, requests, commits
        from marts.correlation_series
        where tenant_id = ? and repo_slug = ? and event_date between ? and ?
        order by event_date
        """,
        [tenant, repo, start, end],
    )
    return [DailyActivity(r["event_date"], r["requests"], r["commits"]) for r in rows]


def _savings(con: duckdb.DuckDBPyConnection, tenant: str, end: date, tables: set[str]) -> Savings | None:
    if "customer_roi_snapshots" not in tables:
        return None
    rows = _rows(
        con,
        """
        select snapshot_date, cast(total_savings_30d as double) as total_savings_30d,
               cast(savings_percentage_30d as double) as savings_percentage_30d,
               cast(total_cost_30d as double) as total_cost_30d,
               cast(baseline_cost_30d as double) as baseline_cost_30d
        from marts.customer_roi_snapshots
        where tenant_id = ? and snapshot_date <= ?
        order by snapshot_date desc
        limit 1
        """,
        [tenant, end],
    )
    return _build(Savings, rows[0]) if rows else None


def _published_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    try:
        rows = _rows(con, "select max(published_at) as at from main.prodlens_manifest")
    except duckdb.CatalogException:
        return None
    return rows[0]["at"]


def gather(home: Home, request: ReportRequest, *, now: datetime | None = None) -> ReportData:
    """Everything one report shows, read from ``home``'s published database. Raises ReportError (one line,
    for the CLI) for a missing build, an unknown repository or tenant, an empty window or a lag the cache
    does not hold."""
    request = request.checked((now or datetime.now(UTC)).date())
    con = connect(home.published, read_only=True)
    try:
        tables = _tables(con)
        missing = [t for t in REQUIRED if t not in tables]
        if missing:
            raise ReportError(
                f"the published database {home.published} has no marts.{', marts.'.join(missing)}: "
                "run prodlens build first"
            )
        tenant = resolve_tenant(con, request.repo, request.tenant, tables)
        try:
            metrics = report_metrics(
                con.cursor(), tenant, request.repo, request.since, request.until, request.policy_models
            )
        except (ReportWindowError, LookupError) as exc:
            raise ReportError(str(exc)) from None
        if not metrics.get("request_count"):
            span = _rows(
                con,
                "select min(event_date) as first, max(event_date) as last from marts.report_daily_figures "
                "where tenant_id = ? and repo_slug = ?",
                [tenant, request.repo],
            )[0]
            window = f"from {request.since} to {request.until}" if request.until else f"since {request.since}"
            raise ReportError(
                f"no AI requests from tenant {tenant!r} in {request.repo} {window}; "
                f"its requests run from {span['first']} to {span['last']}"
            )
        start, end = metrics["period_start"], metrics["period_end"]
        associations, family = _associations(con, tenant, request.repo, request.lag_days)
        resolved = replace(
            request,
            tenant=tenant,
            lag_days=request.lag_days if request.lag_days is not None else family.max_lag_days,
        )
        return ReportData(
            request=resolved,
            tenant_id=tenant,
            metrics=metrics,
            associations=associations,
            family=family,
            effects=_effects(con, tenant),
            daily_cost=_daily_cost(con, tenant, request.repo, start, end),
            latency=_latency(con, tenant, start, end, tables),
            activity=_activity(con, tenant, request.repo, start, end),
            savings=_savings(con, tenant, end, tables),
            database=home.published,
            published_at=_published_at(con),
            generated_at=now or datetime.now(UTC),
        )
    finally:
        con.close()

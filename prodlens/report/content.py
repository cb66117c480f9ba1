"""The report's content as data: the nested JSON document and the flat CSV rows.

Both are built from :data:`FIGURES`, one table that maps each report figure to its column of
marts.report_metrics (as returned by prodlens.report.metrics.report_metrics), so JSON, CSV and HTML show the same
numbers under the same names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from prodlens.report.data import Association, Effect, ReportData
from prodlens.report.reading import association_reading, effect_reading, fmt_p, savings_text

METHOD_DETRENDED = (
    "Pearson and Spearman correlations of the daily series with their trend and weekday pattern removed "
    "(residuals of a linear trend and weekday dummies); AI use on day d against the outcome on day d + lag; "
    "p-values corrected for autocorrelation (effective sample size)"
)
METHOD_LEVELS = "Pearson and Spearman correlations of the daily levels; AI use on day d against the outcome on day d + lag"


#: Report sections whose figures count only requests with acceptance tracked (their n is that count).
ACCEPTANCE_SECTIONS = frozenset({"acceptance_rate", "token_efficiency", "acceptance_quality"})
#: What an acceptance figure shows when no request of the window had acceptance tracked.
NOT_TRACKED = "acceptance not tracked"


@dataclass(frozen=True)
class Figure:
    """One report figure: JSON ``section.key`` (CSV metric ``section`` when key is ``value``)."""

    section: str
    key: str
    column: str  # column of marts.report_metrics
    unit: str
    n_column: str | None = None
    note: str = ""
    in_csv: bool = True

    @property
    def metric(self) -> str:
        return self.section if self.key == "value" else f"{self.section}.{self.key}"


FIGURES: tuple[Figure, ...] = (
    Figure(
        "ai_interaction_velocity",
        "median_latency_ms",
        "median_latency_ms",
        "ms",
        "request_count",
        "median request latency",
    ),
    Figure(
        "ai_interaction_velocity",
        "requests_per_active_hour",
        "requests_per_active_hour",
        "requests per active hour",
        "active_hours",
        "requests / distinct clock hours with a request",
    ),
    Figure("ai_interaction_velocity", "request_count", "request_count", "requests"),
    Figure("ai_interaction_velocity", "active_hours", "active_hours", "hours", in_csv=False),
    Figure("ai_interaction_velocity", "active_developers", "active_developers", "developers"),
    Figure(
        "acceptance_rate",
        "value",
        "acceptance_rate",
        "fraction",
        "acceptance_tracked_count",
        "accepted requests / requests with acceptance tracked",
    ),
    Figure("acceptance_rate", "accepted_count", "accepted_count", "requests", in_csv=False),
    Figure("acceptance_rate", "tracked_count", "acceptance_tracked_count", "requests", in_csv=False),
    Figure("acceptance_rate", "request_count", "request_count", "requests", in_csv=False),
    Figure(
        "model_selection_accuracy",
        "value",
        "model_selection_accuracy",
        "fraction",
        "request_count",
        "requests on the policy models / requests",
    ),
    Figure("error_rate", "value", "error_rate", "fraction", "request_count", "failed requests / requests"),
    Figure("error_rate", "error_count", "error_count", "requests", in_csv=False),
    Figure("error_rate", "request_count", "request_count", "requests", in_csv=False),
    Figure(
        "token_efficiency",
        "tokens_per_accepted_request",
        "tokens_per_accepted_request",
        "tokens",
        "accepted_count",
        "tokens of requests with acceptance tracked / accepted requests",
    ),
    Figure(
        "token_efficiency",
        "tokens_per_accepted_line",
        "tokens_per_accepted_line",
        "tokens",
        "accepted_lines",
        "tokens of requests with acceptance tracked / accepted lines",
    ),
    Figure("token_efficiency", "total_tokens", "total_tokens", "tokens", "request_count"),
    Figure("token_efficiency", "accepted_count", "accepted_count", "requests", in_csv=False),
    Figure("token_efficiency", "accepted_lines", "accepted_lines", "lines", in_csv=False),
    Figure(
        "acceptance_quality",
        "mean_diff_ratio",
        "mean_diff_ratio",
        "ratio",
        "diff_ratio_count",
        "mean diff_ratio of requests with one",
    ),
    Figure(
        "acceptance_quality",
        "share_diff_ratio_ge_0_7",
        "diff_ratio_share_ge_07",
        "fraction",
        "diff_ratio_count",
        "share of requests with diff_ratio >= 0.7",
    ),
    Figure("acceptance_quality", "n", "diff_ratio_count", "requests", in_csv=False),
    Figure(
        "pr_throughput",
        "merged_prs_per_week",
        "pr_throughput_per_week",
        "PRs per week",
        "weeks_in_period",
        "merged PRs per calendar week, averaged over the weeks of the window, empty weeks counted",
    ),
    Figure("pr_throughput", "merged_pr_count", "merged_pr_count", "PRs"),
    Figure("pr_throughput", "weeks", "weeks_in_period", "weeks", in_csv=False),
    Figure(
        "commit_frequency",
        "commits_per_active_day",
        "commits_per_active_day",
        "commits per active day",
        "commit_days",
        "commits / days with at least one commit",
    ),
    Figure("commit_frequency", "commit_count", "commit_count", "commits"),
    Figure("commit_frequency", "active_days", "commit_days", "days", in_csv=False),
    Figure(
        "pr_merge_time_hours",
        "median",
        "median_merge_hours",
        "hours",
        "merged_pr_count",
        "median hours from opening to merge of PRs merged in the window",
    ),
    Figure(
        "pr_merge_time_hours",
        "p90",
        "p90_merge_hours",
        "hours",
        "merged_pr_count",
        "90th percentile of merge hours",
    ),
    Figure("pr_merge_time_hours", "merged_pr_count", "merged_pr_count", "PRs", in_csv=False),
    Figure(
        "rework_rate",
        "value",
        "rework_rate",
        "fraction",
        "closed_pr_count",
        "PRs closed in the window that were ever reopened / PRs closed",
    ),
    Figure("rework_rate", "reopened_pr_count", "reopened_closed_pr_count", "PRs", in_csv=False),
    Figure("rework_rate", "closed_pr_count", "closed_pr_count", "PRs", in_csv=False),
    Figure(
        "cost_metrics", "total_cost_usd", "total_cost_usd", "USD", "request_count", "AI cost in the window"
    ),
    Figure(
        "cost_metrics",
        "cost_per_merged_pr_usd",
        "cost_per_merged_pr",
        "USD",
        "merged_pr_count",
        "AI cost / PRs merged in the window",
    ),
    Figure("cost_metrics", "merged_pr_count", "merged_pr_count", "PRs", in_csv=False),
)

JSON_KEYS: tuple[str, ...] = (
    "ai_interaction_velocity",
    "acceptance_rate",
    "model_selection_accuracy",
    "error_rate",
    "token_efficiency",
    "acceptance_quality",
    "pr_throughput",
    "commit_frequency",
    "pr_merge_time_hours",
    "rework_rate",
    "cost_metrics",
    "ai_outcome_association",
    "multiple_comparison_adjustment",
    "effect_sizes",
    "metadata",
)

CSV_COLUMNS: tuple[str, ...] = ("metric", "value", "unit", "n", "note")


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "__float__") and not isinstance(value, bool | int | float):
        return float(value)
    return value


def association_dict(a: Association) -> dict[str, Any]:
    return {**jsonable(dataclasses.asdict(a)), "reading": association_reading(a)}


def effect_dict(e: Effect) -> dict[str, Any]:
    out = jsonable(dataclasses.asdict(e))
    out.pop("metric")
    if e.metric != "model_acceptance_rate":
        out.pop("model")
    return {**out, "reading": effect_reading(e)}


def policy_note(data: ReportData) -> str:
    models = data.request.policy_models
    return f"policy models: {', '.join(models)}" if models else "no --policy-model given"


def _section_dicts(data: ReportData) -> dict[str, dict[str, Any]]:
    sections: dict[str, dict[str, Any]] = {}
    for figure in FIGURES:
        sections.setdefault(figure.section, {})[figure.key] = jsonable(data.metrics.get(figure.column))
    sections["model_selection_accuracy"]["policy_models"] = list(data.request.policy_models)
    sections["model_selection_accuracy"]["request_count"] = data.metrics.get("request_count")
    savings = data.savings
    sections["cost_metrics"]["savings"] = (
        None
        if savings is None
        else {**jsonable(dataclasses.asdict(savings)), "scope": "tenant", "reading": savings_text(savings)}
    )
    return sections


def _association_section(data: ReportData) -> dict[str, Any]:
    detrended = any(a.detrended for a in data.associations)
    first = data.associations[0] if data.associations else None
    strongest = data.strongest()
    return {
        "method": METHOD_DETRENDED if detrended else METHOD_LEVELS,
        "detrended": detrended,
        "window_start": jsonable(first.window_start) if first else None,
        "window_end": jsonable(first.window_end) if first else None,
        "correlation_date": jsonable(first.correlation_date) if first else None,
        "lags": sorted({a.lag_days for a in data.associations}),
        "strongest_requests_vs_commits": association_dict(strongest) if strongest else None,
        "tests": [association_dict(a) for a in data.associations],
    }


def _adjustment_section(data: ReportData) -> dict[str, Any]:
    return {
        "method": "benjamini-hochberg",
        "fdr": data.family.fdr,
        "family": (
            f"every non-null test of tenant {data.tenant_id} and {data.request.repo} in the build "
            f"(lags 0 to {data.family.max_lag_days})"
            if data.family.max_lag_days is not None
            else "no tests in marts.correlation_cache for this tenant and repository"
        ),
        "family_size": data.family.size,
        "significant_in_family": data.family.significant,
        "tests_shown": len(data.associations),
        "significant_shown": sum(a.significant for a in data.associations),
        "adjusted_p_values": [
            {
                "x_metric": a.x_metric,
                "y_metric": a.y_metric,
                "lag_days": a.lag_days,
                "pearson_p": a.pearson_p,
                "pearson_p_adjusted": a.pearson_p_adjusted,
                "spearman_p": a.spearman_p,
                "spearman_p_adjusted": a.spearman_p_adjusted,
                "significant": a.significant,
            }
            for a in data.associations
        ],
    }


def _effect_section(data: ReportData) -> dict[str, Any]:
    out: dict[str, Any] = {
        "latency_cohens_d": None,
        "token_efficiency_ratio": None,
        "model_acceptance_rates": {},
        "session_growth_percent": None,
        "scope": "tenant (all repositories)",
    }
    for e in data.effects:
        if e.metric == "model_acceptance_rate":
            out["model_acceptance_rates"][e.model] = effect_dict(e)
        else:
            out[e.metric] = effect_dict(e)
    return out


def metadata(data: ReportData) -> dict[str, Any]:
    r = data.request
    return jsonable(
        {
            "repo": r.repo,
            "tenant_id": data.tenant_id,
            "since": r.since,
            "until": r.until,
            "period_start": data.period_start,
            "period_end": data.period_end,
            "days_in_period": data.metrics.get("days_in_period"),
            "lag_days": r.lag_days,
            "policy_models": list(r.policy_models),
            "generated_at": data.generated_at,
            "published_at": data.published_at,
            "database": str(data.database),
            "sources": [
                "marts.report_metrics (via marts.metric_queries)",
                "marts.correlation_cache",
                "marts.correlation_series",
                "marts.effect_sizes",
                "marts.report_daily_figures",
                "marts.provider_performance",
                "marts.customer_roi_snapshots",
            ],
            "notes": list(r.notes),
        }
    )


def report_json(data: ReportData) -> dict[str, Any]:
    """The nested report, with the ProdLens report keys (:data:`JSON_KEYS`) in order."""
    sections = _section_dicts(data)
    doc = {
        **sections,
        "ai_outcome_association": _association_section(data),
        "multiple_comparison_adjustment": _adjustment_section(data),
        "effect_sizes": _effect_section(data),
        "metadata": metadata(data),
    }
    return {key: doc[key] for key in JSON_KEYS}


# --------------------------------------------------------------------------------------------------------


def _row(metric: str, value: Any, unit: str, n: Any = None, note: str = "") -> dict[str, Any]:
    return {"metric": metric, "value": jsonable(value), "unit": unit, "n": n, "note": note}


def _association_rows(data: ReportData) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for a in data.associations:
        base = f"{a.x_metric}.{a.y_metric}.lag_{a.lag_days}"
        kind = "trend-and-weekday residuals" if a.detrended else "levels"
        spearman = (
            f"adjusted p={fmt_p(a.spearman_p_adjusted)}"
            if a.spearman_p_adjusted is not None
            else (a.note or "")
        )
        rows.append(
            _row(
                f"ai_outcome_association.{base}.pearson_r",
                a.pearson_r,
                f"pearson r ({kind})",
                a.sample_size,
                association_reading(a),
            )
        )
        rows.append(
            _row(
                f"ai_outcome_association.{base}.spearman_r",
                a.spearman_r,
                f"spearman rho ({kind})",
                a.sample_size,
                spearman,
            )
        )
        rows.append(
            _row(
                f"ai_outcome_association.{base}.raw_pearson_r",
                a.raw_pearson_r,
                "pearson r (levels)",
                None,
                "daily levels, without detrending",
            )
        )
        for test in ("pearson", "spearman"):
            p = getattr(a, f"{test}_p")
            note = (
                f"unadjusted p={p!r}; family of {data.family.size} tests" if p is not None else (a.note or "")
            )
            rows.append(
                _row(
                    f"multiple_comparison_adjustment.{base}.{test}_p_adjusted",
                    getattr(a, f"{test}_p_adjusted"),
                    "BH-adjusted p",
                    a.sample_size,
                    note,
                )
            )
    rows.append(
        _row(
            "multiple_comparison_adjustment.family_size",
            data.family.size,
            "tests",
            None,
            f"Benjamini-Hochberg at FDR {data.family.fdr}",
        )
    )
    rows.append(
        _row(
            "multiple_comparison_adjustment.significant_tests",
            data.family.significant,
            "tests",
            data.family.size,
            "pearson_p_adjusted < FDR",
        )
    )
    return rows


_EFFECT_UNITS = {
    "latency_cohens_d": "hedges g",
    "token_efficiency_ratio": "ratio",
    "model_acceptance_rate": "fraction",
    "session_growth_percent": "percent",
}


def _effect_rows(data: ReportData) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for e in data.effects:
        metric = f"effect_sizes.{e.metric}" + (f".{e.model}" if e.metric == "model_acceptance_rate" else "")
        unit = _EFFECT_UNITS.get(e.metric, "")
        rows.append(_row(metric, e.value, unit, e.n, effect_reading(e)))
        if e.ci_low is not None:
            rows.append(_row(f"{metric}.ci_low", e.ci_low, unit, e.n, "lower bound of the 95% interval"))
            rows.append(_row(f"{metric}.ci_high", e.ci_high, unit, e.n, "upper bound of the 95% interval"))
    return rows


def report_rows(data: ReportData) -> list[dict[str, Any]]:
    """The flat report: one metric per row with columns :data:`CSV_COLUMNS`."""
    m = data.metrics
    scope = f"{data.request.repo}, tenant {data.tenant_id}, {data.period_start} to {data.period_end}"
    rows = [_row("metadata.days_in_period", m.get("days_in_period"), "days", None, scope)]
    for figure in FIGURES:
        if not figure.in_csv:
            continue
        note = policy_note(data) if figure.section == "model_selection_accuracy" else figure.note
        n = m.get(figure.n_column) if figure.n_column else None
        rows.append(_row(figure.metric, m.get(figure.column), figure.unit, n, note))
    savings = data.savings
    rows.append(
        _row(
            "cost_metrics.savings_30d_usd",
            savings.total_savings_30d if savings else None,
            "USD",
            None,
            savings_text(savings),
        )
    )
    return rows + _association_rows(data) + _effect_rows(data)

"""Number formats and plain-language readings of the report's statistics (no statistics computed here)."""

from __future__ import annotations

from prodlens.report.data import Association, Effect, Savings

METRIC_LABELS: dict[str, str] = {
    "requests": "AI requests",
    "active_developers": "active developers",
    "total_tokens": "tokens",
    "cost_usd": "AI cost",
    "commits": "commits",
    "merged_prs": "merged PRs",
    "median_merge_hours": "median merge time",
}


def label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def fmt_number(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def fmt_usd(value: float | None) -> str:
    if value is None:
        return "–"
    if value != 0 and abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def fmt_pct(fraction: float | None, digits: int = 1) -> str:
    """A fraction (0.571) as a percentage (57.1%)."""
    return "–" if fraction is None else f"{fraction * 100:.{digits}f}%"


def fmt_p(p: float | None) -> str:
    if p is None:
        return "–"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def fmt_r(r: float | None) -> str:
    return "–" if r is None else f"{r:+.2f}"


def strength(r: float) -> str:
    """Conventional words for |r|: negligible (< 0.1), weak (< 0.3), moderate (< 0.5), strong."""
    size = abs(r)
    if size < 0.1:
        return "negligible"
    if size < 0.3:
        return "weak"
    if size < 0.5:
        return "moderate"
    return "strong"


def association_reading(a: Association) -> str:
    """One line a manager can read, e.g. "no reliable association (n=41, adjusted p=0.62)"."""
    if a.pearson_r is None or a.pearson_p_adjusted is None:
        return f"not tested: {a.note or 'statistic undefined'}"
    if not a.significant:
        return f"no reliable association (n={a.sample_size}, adjusted p={fmt_p(a.pearson_p_adjusted)})"
    direction = "positive" if a.pearson_r > 0 else "negative"
    return (
        f"{strength(a.pearson_r)} {direction} association (r={a.pearson_r:.2f}, n={a.sample_size}, "
        f"adjusted p={fmt_p(a.pearson_p_adjusted)})"
    )


def association_sentence(a: Association) -> str:
    """The association as a sentence with its variables and lag."""
    lag = "the same day" if a.lag_days == 0 else f"{a.lag_days} day{'s' if a.lag_days != 1 else ''} later"
    return f"{label(a.x_metric)} against {label(a.y_metric)} {lag}: {association_reading(a)}"


def ci_text(low: float | None, high: float | None, *, pct: bool = False) -> str:
    if low is None or high is None:
        return "–"
    if pct:
        return f"{fmt_pct(low)} to {fmt_pct(high)}"
    return f"{low:.2f} to {high:.2f}"


def effect_reading(e: Effect) -> str:
    """One line per effect-size row."""
    if e.value is None:
        return f"not computed: {e.note or 'undefined'}"
    if e.metric == "latency_cohens_d":
        if e.ci_low is not None and e.ci_high is not None and e.ci_low <= 0 <= e.ci_high:
            verdict = "no clear latency difference between accepted and not-accepted requests"
        else:
            verdict = f"accepted requests were {'slower' if e.value > 0 else 'faster'} than not-accepted ones"
        return (
            f"{verdict}: Hedges' g {e.value:+.2f} (95% CI {ci_text(e.ci_low, e.ci_high)}), "
            f"{e.interpretation}; n tracked = {e.n_group_a} accepted, {e.n_group_b} not accepted"
        )
    if e.metric == "token_efficiency_ratio":
        return (
            f"an accepted request uses {e.value:.2f}× the tokens of an average tracked request "
            f"({e.n_group_a} accepted of {e.n} tracked)"
        )
    if e.metric == "model_acceptance_rate":
        return f"{fmt_pct(e.value)} accepted (95% CI {ci_text(e.ci_low, e.ci_high, pct=True)}, n={e.n})"
    if e.metric == "session_growth_percent":
        return (
            f"{e.value:+.1f}% requests in the 7 days to {e.as_of} against the 7 days before "
            f"({e.n_group_a} against {e.n_group_b})"
        )
    return f"{e.value:.3g}"


def savings_text(s: Savings | None) -> str:
    if s is None:
        return "no ROI snapshot for this tenant in the window"
    pct = "" if s.savings_percentage_30d is None else f", {s.savings_percentage_30d:.0f}% of the baseline"
    return f"30 days to {s.snapshot_date}, whole tenant, conservative rounding{pct}"

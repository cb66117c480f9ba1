"""Lagged correlations between daily AI usage and delivery metrics, per tenant and repository.

Two steps:

* :func:`daily_series` turns request rows and GitHub day rows into one continuous daily spine per
  (tenant_id, repo_slug). Days without activity are real observations (zero requests, zero commits) and
  are zero-filled; ``median_merge_hours`` is not a count and stays null on days without a value.
* :func:`correlations` pairs each AI metric on day d with each delivery metric on day d + lag and reports
  Pearson and Spearman correlations, raw and detrended, with Benjamini–Hochberg adjusted p-values.

Detrending (the default) replaces each daily series by its OLS residuals from
s_t = a + b·t + Σ_{k=1..6} c_k·[weekday(t) = k] (t the day index from the spine start, Monday the
reference weekday; median_merge_hours, which is not zero-filled, is fitted on the days that have a value).
The residuals are computed once per series over the whole spine, then paired by lag: x on day d with y on
day d + L, over the days where both exist. Shared trends and weekly cycles (both series dip at weekends)
are removed, so they no longer pass for an association. The p-values are corrected for the
autocorrelation left in the residuals by the effective sample size of Pyper & Peterman (1998):
1/n_eff = 1/n + (2/n)·Σ_{j=1}^{⌊n/5⌋} ρx(j)·ρy(j), n_eff clipped to [3, n], t = |r|·√((n_eff − 2)/(1 − r²)),
p = 2·t.sf(t, n_eff − 2). With prewhiten, an AR(1) fitted to x's residuals is removed from both residual
series before they are paired.

Degenerate inputs never raise and never produce NaN: a test with fewer than ``min_sample_size`` pairs,
a constant series (before or after differencing) or an undefined statistic gets null r and p and a
``note`` saying why. Every output frame holds Python ``None`` for missing values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from prodlens.stats.scipy_stats import scipy_stats

X_METRICS: tuple[str, ...] = ("requests", "active_developers", "total_tokens", "cost_usd")
Y_METRICS: tuple[str, ...] = ("commits", "merged_prs", "median_merge_hours")

SERIES_COLUMNS: list[str] = [
    "tenant_id",
    "repo_slug",
    "event_date",
    "requests",
    "active_developers",
    "total_tokens",
    "cost_usd",
    "commits",
    "merged_prs",
    "median_merge_hours",
]

CORRELATION_COLUMNS: list[str] = [
    "tenant_id",
    "repo_slug",
    "x_metric",
    "y_metric",
    "lag_days",
    "correlation_date",
    "window_start",
    "window_end",
    "sample_size",
    "effective_n",
    "pearson_r",
    "pearson_p",
    "spearman_r",
    "spearman_p",
    "raw_sample_size",
    "raw_pearson_r",
    "raw_pearson_p",
    "raw_spearman_r",
    "raw_spearman_p",
    "pearson_p_adjusted",
    "spearman_p_adjusted",
    "significant",
    "detrended",
    "prewhitened",
    "note",
    "created_at",
]

#: Descriptions of the columns of :func:`correlations` (for the dbt schema of marts.correlation_cache).
CORRELATION_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "tenant_id": "Tenant whose AI requests form the x series.",
    "repo_slug": "Repository; its GitHub activity forms the y series.",
    "x_metric": "AI usage metric on day d: requests, active_developers, total_tokens or cost_usd.",
    "y_metric": "Delivery metric on day d + lag_days: commits, merged_prs or median_merge_hours.",
    "lag_days": "Days by which the delivery metric follows the AI metric (0 = same day).",
    "correlation_date": "The as-of date: var stats_as_of, else stats_window_end, else the tenant's own last "
    "day in correlation_series (another tenant's newer data does not move it).",
    "window_start": "First day of the daily spine of this tenant and repository.",
    "window_end": "Last day of the daily spine of this tenant and repository.",
    "sample_size": "Number of (x, y) pairs behind pearson_r/spearman_r: days d of the spine with a value of "
    "x on d and of y on d + lag.",
    "effective_n": "Pyper & Peterman's effective sample size behind pearson_p: 1/n_eff = 1/n + (2/n) "
    "Σ_{j=1..⌊n/5⌋} ρx(j)·ρy(j) over the paired residuals, clipped to [3, n]; null when not detrended.",
    "pearson_r": "Pearson r of the reported series: when detrended, the residuals of each daily series from "
    "a + b·t + weekday dummies (Monday the reference; one fit over the whole spine), x on day d against y "
    "on day d + lag; raw levels otherwise. Null when degenerate (see note).",
    "pearson_p": "Two-sided p-value of pearson_r: t = |r|·√((n_eff − 2)/(1 − r²)) with n_eff − 2 degrees "
    "of freedom when detrended (autocorrelation-corrected), scipy's otherwise.",
    "spearman_r": "Spearman correlation of the same pairs: Pearson of the average ranks of the residuals "
    "(rounded to 1e-9 × the largest |residual|) when detrended.",
    "spearman_p": "Two-sided p-value of spearman_r, with the effective sample size of the ranks.",
    "raw_sample_size": "Number of (x, y) pairs behind the raw_* columns.",
    "raw_pearson_r": "Pearson r of the raw daily levels (x_d against y_{d+L}), without detrending.",
    "raw_pearson_p": "Two-sided p-value of raw_pearson_r.",
    "raw_spearman_r": "Spearman rank correlation of the raw daily levels.",
    "raw_spearman_p": "Two-sided p-value of raw_spearman_r.",
    "pearson_p_adjusted": "Benjamini–Hochberg adjusted pearson_p; family = all non-null tests of this "
    "tenant and repository in this run.",
    "spearman_p_adjusted": "Benjamini–Hochberg adjusted spearman_p, same family.",
    "significant": "pearson_p_adjusted < fdr (default 0.05); false when the p-value is null.",
    "detrended": "True when pearson_*/spearman_* are computed on the weekday-and-trend residuals "
    "(var correlation_detrend, default true).",
    "prewhitened": "True when an AR(1) fitted to x's residuals was removed from both series before pairing "
    "(var correlation_prewhiten, default false).",
    "note": "Why a statistic is null (too few days, constant series, ...); null when all is well.",
    "created_at": "When the row was computed.",
}

# A series whose spread is below this fraction of its magnitude is treated as constant: floating-point
# noise in sums (0.1 + 0.2 vs 0.3) must not turn into a meaningless correlation.
_CONSTANT_RTOL = 1e-12


# --------------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------------


def _is_present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float | np.floating):
        return math.isfinite(value)
    try:
        missing = pd.isna(value)
    except (TypeError, ValueError):
        return True
    return not (isinstance(missing, bool | np.bool_) and missing)


def _nan_free(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Object-typed copy of ``frame[columns]`` with NaN, NaT, pd.NA and ±inf replaced by None."""
    out = frame.reindex(columns=list(columns)).astype(object)
    if out.empty:
        return out
    return out.where(out.map(_is_present), None)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _to_day(values: pd.Series) -> pd.Series:
    """Dates, datetimes or strings as midnight timestamps (tz-aware values are taken in UTC)."""
    days = pd.to_datetime(values, errors="coerce")
    if getattr(days.dt, "tz", None) is not None:
        days = days.dt.tz_convert("UTC").dt.tz_localize(None)
    return days.dt.normalize().astype("datetime64[ns]")


def _numeric(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s): {', '.join(missing)}")


# --------------------------------------------------------------------------------------------------------
# Daily series
# --------------------------------------------------------------------------------------------------------


def daily_series(
    requests: pd.DataFrame,
    github: pd.DataFrame,
    *,
    window_start: date | None = None,
    window_end: date | None = None,
) -> pd.DataFrame:
    """One row per tenant, repository and day of a continuous daily spine.

    ``requests``: tenant_id, repo_slug, event_date, developer_id, total_tokens, cost_usd (one row per
    request; developer_id may be null), or the same summed per tenant, repository, day and developer with
    their count in a ``request_count`` column (what the dbt model hands over: a few rows per day, not
    every request). ``github``: repo_slug, event_date, commit_count, merged_pr_count,
    median_merge_hours (one row per repo and day; may be empty). Both are restricted to the optional,
    inclusive window [window_start, window_end].

    A (tenant_id, repo_slug) gets a spine when the tenant has at least one request for the repository in
    the window; the spine runs from the first to the last day with any activity, AI requests of that
    tenant or GitHub activity (a commit or a merge) of that repository (GitHub rows are joined on
    repo_slug alone, so one repository's GitHub data serves every tenant using it). It is never extended
    to the sync date: GitHub rows without a commit or merge (daily_github_metrics pads each repository to
    the sync date with zeros) fill days inside the spine but do not widen it. Requests without tenant_id, repo_slug or
    event_date are ignored.

    AI metrics (requests, active_developers = distinct non-null developer ids, total_tokens, cost_usd) and
    commits / merged_prs are zero on days without activity; median_merge_hours stays null on days
    without a GitHub value (duplicate GitHub rows of one day are summed, their median hours averaged).

    Columns: tenant_id, repo_slug, event_date (datetime.date), requests, active_developers, total_tokens,
    cost_usd, commits, merged_prs, median_merge_hours; object-typed, None for missing.
    """
    _require(
        requests,
        ["tenant_id", "repo_slug", "event_date", "developer_id", "total_tokens", "cost_usd"],
        "requests",
    )
    lo = pd.Timestamp(window_start) if window_start is not None else None
    hi = pd.Timestamp(window_end) if window_end is not None else None

    def in_window(days: pd.Series) -> pd.Series:
        keep = days.notna()
        if lo is not None:
            keep &= days >= lo
        if hi is not None:
            keep &= days <= hi
        return keep

    req = pd.DataFrame(
        {
            "tenant_id": requests["tenant_id"],
            "repo_slug": requests["repo_slug"],
            "day": _to_day(requests["event_date"]),
            "developer_id": requests["developer_id"],
            "total_tokens": _numeric(requests["total_tokens"]),
            "cost_usd": _numeric(requests["cost_usd"]),
            "request_count": (_numeric(requests["request_count"]) if "request_count" in requests else 1.0),
        }
    )
    req = req[in_window(req["day"]) & req["tenant_id"].notna() & req["repo_slug"].notna()]
    if req.empty:
        return _nan_free(pd.DataFrame(columns=SERIES_COLUMNS), SERIES_COLUMNS)

    ai = req.groupby(["tenant_id", "repo_slug", "day"], sort=True).agg(
        requests=("request_count", "sum"),
        active_developers=("developer_id", "nunique"),
        total_tokens=("total_tokens", "sum"),
        cost_usd=("cost_usd", "sum"),
    )

    gh_by_repo: dict[Any, pd.DataFrame] = {}
    if len(github) > 0:
        _require(
            github,
            ["repo_slug", "event_date", "commit_count", "merged_pr_count", "median_merge_hours"],
            "github",
        )
        gh = pd.DataFrame(
            {
                "repo_slug": github["repo_slug"],
                "day": _to_day(github["event_date"]),
                "commits": _numeric(github["commit_count"]),
                "merged_prs": _numeric(github["merged_pr_count"]),
                "median_merge_hours": _numeric(github["median_merge_hours"]),
            }
        )
        gh = gh[in_window(gh["day"]) & gh["repo_slug"].notna()]
        gh = gh.groupby(["repo_slug", "day"], sort=True).agg(
            commits=("commits", "sum"),
            merged_prs=("merged_prs", "sum"),
            median_merge_hours=("median_merge_hours", "mean"),
        )
        for gh_repo, part in gh.groupby(level="repo_slug", sort=False):
            gh_by_repo[gh_repo] = part.droplevel("repo_slug")

    frames: list[pd.DataFrame] = []
    for (tenant, repo), part in ai.groupby(level=["tenant_id", "repo_slug"], sort=True):
        ai_days = part.droplevel(["tenant_id", "repo_slug"])
        gh_days = gh_by_repo.get(repo)
        start, end = ai_days.index.min(), ai_days.index.max()
        if gh_days is not None:
            # days with GitHub activity, not the zero rows daily_github_metrics pads up to the sync date
            active = gh_days[(gh_days["commits"] > 0) | (gh_days["merged_prs"] > 0)]
            if not active.empty:
                start, end = min(start, active.index.min()), max(end, active.index.max())
        spine = pd.date_range(start, end, freq="D")
        ai_full = ai_days.reindex(spine).fillna(0)
        if gh_days is not None:
            gh_full = gh_days.reindex(spine)
        else:
            gh_full = pd.DataFrame(
                index=spine, columns=["commits", "merged_prs", "median_merge_hours"], dtype=float
            )
        tokens = ai_full["total_tokens"].to_numpy(dtype=float)
        frames.append(
            pd.DataFrame(
                {
                    "tenant_id": tenant,
                    "repo_slug": repo,
                    "event_date": [d.date() for d in spine],
                    "requests": ai_full["requests"].to_numpy(dtype=np.int64),
                    "active_developers": ai_full["active_developers"].to_numpy(dtype=np.int64),
                    "total_tokens": tokens.astype(np.int64) if np.all(np.mod(tokens, 1) == 0) else tokens,
                    "cost_usd": ai_full["cost_usd"].to_numpy(dtype=float),
                    "commits": gh_full["commits"].fillna(0).to_numpy(dtype=np.int64),
                    "merged_prs": gh_full["merged_prs"].fillna(0).to_numpy(dtype=np.int64),
                    "median_merge_hours": gh_full["median_merge_hours"].to_numpy(dtype=float),
                }
            )
        )
    return _nan_free(pd.concat(frames, ignore_index=True), SERIES_COLUMNS)


# --------------------------------------------------------------------------------------------------------
# Correlations
# --------------------------------------------------------------------------------------------------------


def benjamini_hochberg(p: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg adjusted p-values; None (or NaN) entries stay None, the others form one family.

    Uses ``scipy.stats.false_discovery_control(method='bh')``.
    """
    values = [_finite(v) for v in p]
    index = [i for i, v in enumerate(values) if v is not None]
    out: list[float | None] = [None] * len(values)
    if not index:
        return out
    adjusted = scipy_stats().false_discovery_control(
        np.array([values[i] for i in index], dtype=float), method="bh"
    )
    for i, q in zip(index, adjusted, strict=True):
        out[i] = float(q)
    return out


@dataclass(frozen=True)
class _Corr:
    n: int
    pearson_r: float | None = None
    pearson_p: float | None = None
    spearman_r: float | None = None
    spearman_p: float | None = None
    effective_n: float | None = None
    reason: str | None = None


#: A residual series this small against its levels is constant (floating-point noise of the fit).
_RESIDUAL_RTOL = 1e-9


def _is_constant(values: np.ndarray) -> bool:
    spread = float(np.max(values) - np.min(values))
    return spread <= _CONSTANT_RTOL * max(1.0, float(np.max(np.abs(values))))


def _correlate(x: np.ndarray, y: np.ndarray, x_name: str, y_name: str, min_n: int, suffix: str) -> _Corr:
    """Plain scipy Pearson and Spearman of paired arrays, or nulls and a reason. Never raises or gives NaN."""
    n = len(x)
    if n < min_n:
        return _Corr(n, reason=f"too few days ({n} < {min_n})")
    constant = [name for name, v in ((x_name, x), (y_name, y)) if _is_constant(v)]
    if constant:
        return _Corr(n, reason=f"constant series{suffix}: {', '.join(constant)}")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            pearson = scipy_stats().pearsonr(x, y)
            spearman = scipy_stats().spearmanr(x, y)
        except (ValueError, FloatingPointError, ZeroDivisionError) as exc:
            return _Corr(n, reason=f"correlation failed{suffix}: {exc}")
    pr, pp = _finite(pearson.statistic), _finite(pearson.pvalue)
    sr, sp = _finite(spearman.statistic), _finite(spearman.pvalue)
    if pr is None or pp is None or sr is None or sp is None:
        return _Corr(n, reason=f"correlation undefined{suffix}")
    return _Corr(n, pr, min(max(pp, 0.0), 1.0), sr, min(max(sp, 0.0), 1.0))


def weekday_residuals(values: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """OLS residuals of a daily series from a + b·t + Σ_{k=1..6} c_k·[weekday = k].

    ``values`` is the series on consecutive days (NaN = no value that day: fitted on the other days),
    ``weekdays`` the days' ISO weekday index (Monday = 0, the reference). t is the position in the series.
    NaN stays NaN. A weekday or trend the days cannot identify is dropped by least squares (minimum norm).
    """
    t = np.arange(len(values), dtype=float)
    design = np.column_stack([np.ones_like(t), t, *((weekdays == k).astype(float) for k in range(1, 7))])
    known = np.isfinite(values)
    residuals = np.full(len(values), np.nan)
    if known.any():
        coef, *_ = np.linalg.lstsq(design[known], values[known], rcond=None)
        residuals[known] = values[known] - design[known] @ coef
    return residuals


def ar1_prewhiten(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both series filtered by the AR(1) fitted to x: φ = Σ x_t·x_{t−1} / Σ x_{t−1}² over consecutive
    known days, then z_t − φ·z_{t−1} (NaN where either day is missing; the first day is NaN)."""
    both = np.isfinite(x[1:]) & np.isfinite(x[:-1])
    denominator = float(np.sum(x[:-1][both] ** 2))
    phi = float(np.sum(x[1:][both] * x[:-1][both])) / denominator if denominator > 0 else 0.0

    def apply(z: np.ndarray) -> np.ndarray:
        out = np.full(len(z), np.nan)
        out[1:] = z[1:] - phi * z[:-1]
        return out

    return apply(x), apply(y)


def effective_n(x: np.ndarray, y: np.ndarray) -> float:
    """Pyper & Peterman's (1998) effective sample size of the paired sequences x and y (as plain sequences):
    1/n_eff = 1/n + (2/n)·Σ_{j=1}^{⌊n/5⌋} ρx(j)·ρy(j), with ρ(j) = Σ_t (z_t − z̄)(z_{t+j} − z̄) / Σ_t (z_t − z̄)²;
    n_eff = n when 1/n_eff ≤ 0, then clipped to [3, n]."""
    n = len(x)
    xc, yc = x - x.mean(), y - y.mean()
    sx, sy = float(np.sum(xc * xc)), float(np.sum(yc * yc))
    total = 0.0
    for j in range(1, n // 5 + 1):
        total += (float(np.sum(xc[:-j] * xc[j:])) / sx) * (float(np.sum(yc[:-j] * yc[j:])) / sy)
    inverse = 1 / n + 2 / n * total
    n_eff = n if inverse <= 0 else 1 / inverse
    return float(min(max(n_eff, 3.0), float(n)))


def corrected_p(r: float, n_eff: float) -> float:
    """Two-sided p of r with n_eff − 2 degrees of freedom (not rounded): t = |r|·√((n_eff − 2)/(1 − r²))."""
    if r * r >= 1:
        return 0.0
    t = abs(r) * math.sqrt((n_eff - 2) / (1 - r * r))
    return float(min(max(2 * scipy_stats().t.sf(t, n_eff - 2), 0.0), 1.0))


def _tie_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks of residuals rounded to 1e-9 × their largest |value| (fit noise makes no order)."""
    quantum = _RESIDUAL_RTOL * float(np.max(np.abs(values)))
    rounded = np.round(values / quantum) * quantum if quantum > 0 else values
    return np.asarray(scipy_stats().rankdata(rounded, method="average"), dtype=float)


def _correlate_residuals(
    x: np.ndarray,
    y: np.ndarray,
    x_levels: np.ndarray,
    y_levels: np.ndarray,
    names: tuple[str, str],
    min_n: int,
) -> _Corr:
    """Pearson of residual pairs and Spearman of their ranks, p-values by effective sample size; nulls
    and a reason for too few pairs or a constant series (levels constant over the paired days, or
    residuals all within 1e-9 × the largest |level|)."""
    n = len(x)
    if n < min_n:
        return _Corr(n, reason=f"too few days ({n} < {min_n})")
    constant = [
        name
        for name, res, lev in ((names[0], x, x_levels), (names[1], y, y_levels))
        if _is_constant(lev) or float(np.max(np.abs(res))) <= _RESIDUAL_RTOL * float(np.max(np.abs(lev)))
    ]
    if constant:
        return _Corr(n, reason=f"constant series: {', '.join(constant)}")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        pearson_r = _finite(scipy_stats().pearsonr(x, y).statistic)
        rx, ry = _tie_ranks(x), _tie_ranks(y)
        spearman_r = (
            _finite(scipy_stats().pearsonr(rx, ry).statistic)
            if not (_is_constant(rx) or _is_constant(ry))
            else None
        )
    if pearson_r is None or spearman_r is None:
        return _Corr(n, reason="correlation undefined after detrending")
    n_eff = effective_n(x, y)
    return _Corr(
        n,
        pearson_r,
        corrected_p(pearson_r, n_eff),
        spearman_r,
        corrected_p(spearman_r, effective_n(rx, ry)),
        effective_n=n_eff,
    )


def _lag_index(x: np.ndarray, y: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (d, d + lag) of the pairs where both x[d] and y[d + lag] exist."""
    m = max(len(x) - lag, 0)
    d = np.arange(m)
    keep = np.isfinite(x[:m]) & np.isfinite(y[lag : lag + m])
    return d[keep], d[keep] + lag


def correlations(
    series: pd.DataFrame,
    *,
    max_lag_days: int = 7,
    min_sample_size: int = 14,
    detrend: bool = True,
    prewhiten: bool = False,
    fdr: float = 0.05,
    as_of: date | None = None,
    created_at: datetime,
) -> pd.DataFrame:
    """Lagged Pearson and Spearman correlations of AI usage against delivery metrics.

    ``series`` has the columns of :func:`daily_series`. For each (tenant_id, repo_slug), each x in
    requests, active_developers, total_tokens, cost_usd, each y in commits, merged_prs,
    median_merge_hours and each lag L in 0..max_lag_days, x on day d is paired with y on day d + L
    (days are calendar days of the spine; a day without a value is missing, not zero).

    * raw_* columns: plain scipy Pearson and Spearman of the raw daily levels, with raw_sample_size pairs.
    * pearson_*/spearman_*: when ``detrend`` is true, of the residuals of :func:`weekday_residuals` (one
      fit per series over the whole spine), Pearson of the residual pairs and Spearman of their ranks, with
      p-values from :func:`effective_n` (effective_n holds Pearson's n_eff); with ``prewhiten`` the
      residuals are first filtered by :func:`ar1_prewhiten`. When ``detrend`` is false they equal the raw
      columns and effective_n is null. ``sample_size`` is the number of pairs behind them.
    * A test with fewer than ``min_sample_size`` pairs, a constant series or an undefined statistic has
      null r and p and a ``note``.
    * pearson_p_adjusted / spearman_p_adjusted: Benjamini–Hochberg over all non-null tests of one
      (tenant_id, repo_slug) in this run, each separately; ``significant`` = pearson_p_adjusted < ``fdr``.
    * correlation_date: ``as_of``, or without it the tenant's own last day in ``series``.

    Returns one row per tenant, repository, x, y and lag with the columns in ``CORRELATION_COLUMNS``,
    object-typed with None for missing values (never NaN or inf).
    """
    if max_lag_days < 0:
        raise ValueError(f"max_lag_days must be >= 0, got {max_lag_days}")
    if min_sample_size < 3:
        raise ValueError(f"min_sample_size must be >= 3, got {min_sample_size}")
    if not 0 < fdr < 1:
        raise ValueError(f"fdr must be between 0 and 1, got {fdr}")
    if series.empty:
        return _nan_free(pd.DataFrame(columns=CORRELATION_COLUMNS), CORRELATION_COLUMNS)
    _require(series, ["tenant_id", "repo_slug", "event_date", *X_METRICS, *Y_METRICS], "series")

    frame = series.assign(_day=_to_day(series["event_date"]))
    frame = frame[frame["_day"].notna() & frame["tenant_id"].notna() & frame["repo_slug"].notna()]
    duplicated = frame.duplicated(["tenant_id", "repo_slug", "_day"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ValueError(
            f"series has more than one row for tenant {first['tenant_id']!r}, repo {first['repo_slug']!r}, "
            f"day {first['_day'].date()}"
        )

    last_days: dict[Any, pd.Timestamp] = frame.groupby("tenant_id")["_day"].max().to_dict()
    rows: list[dict[str, Any]] = []
    for (tenant, repo), fam in frame.groupby(["tenant_id", "repo_slug"], sort=True):
        correlation_date = as_of or last_days[tenant].date()
        fam = fam.set_index("_day").sort_index()
        spine = pd.date_range(fam.index.min(), fam.index.max(), freq="D")
        fam = fam.reindex(spine)
        weekdays = spine.day_of_week.to_numpy()
        levels = {m: _numeric(fam[m]).to_numpy() for m in (*X_METRICS, *Y_METRICS)}
        residuals = {m: weekday_residuals(v, weekdays) for m, v in levels.items()} if detrend else {}
        family: list[dict[str, Any]] = []
        for x_name in X_METRICS:
            for y_name in Y_METRICS:
                if detrend and prewhiten:
                    x_res, y_res = ar1_prewhiten(residuals[x_name], residuals[y_name])
                elif detrend:
                    x_res, y_res = residuals[x_name], residuals[y_name]
                for lag in range(max_lag_days + 1):
                    xi, yi = _lag_index(levels[x_name], levels[y_name], lag)
                    raw = _correlate(
                        levels[x_name][xi], levels[y_name][yi], x_name, y_name, min_sample_size, ""
                    )
                    if detrend:
                        di, dj = _lag_index(x_res, y_res, lag)
                        rep = _correlate_residuals(
                            x_res[di],
                            y_res[dj],
                            levels[x_name][di],
                            levels[y_name][dj],
                            (x_name, y_name),
                            min_sample_size,
                        )
                        note = rep.reason
                    else:
                        rep, note = raw, raw.reason
                    family.append(
                        {
                            "tenant_id": tenant,
                            "repo_slug": repo,
                            "x_metric": x_name,
                            "y_metric": y_name,
                            "lag_days": lag,
                            "correlation_date": correlation_date,
                            "window_start": spine[0].date(),
                            "window_end": spine[-1].date(),
                            "sample_size": rep.n,
                            "effective_n": rep.effective_n,
                            "pearson_r": rep.pearson_r,
                            "pearson_p": rep.pearson_p,
                            "spearman_r": rep.spearman_r,
                            "spearman_p": rep.spearman_p,
                            "raw_sample_size": raw.n,
                            "raw_pearson_r": raw.pearson_r,
                            "raw_pearson_p": raw.pearson_p,
                            "raw_spearman_r": raw.spearman_r,
                            "raw_spearman_p": raw.spearman_p,
                            "detrended": bool(detrend),
                            "prewhitened": bool(detrend and prewhiten),
                            "note": note,
                            "created_at": created_at,
                        }
                    )
        pearson_adj = benjamini_hochberg([r["pearson_p"] for r in family])
        spearman_adj = benjamini_hochberg([r["spearman_p"] for r in family])
        for row, pa, sa in zip(family, pearson_adj, spearman_adj, strict=True):
            row["pearson_p_adjusted"] = pa
            row["spearman_p_adjusted"] = sa
            row["significant"] = bool(pa is not None and pa < fdr)
        rows.extend(family)

    if not rows:
        return _nan_free(pd.DataFrame(columns=CORRELATION_COLUMNS), CORRELATION_COLUMNS)
    return _nan_free(pd.DataFrame(rows), CORRELATION_COLUMNS)

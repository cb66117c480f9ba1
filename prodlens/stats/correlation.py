"""Lagged correlations between daily AI usage and delivery metrics, per tenant and repository.

Two steps:

* :func:`daily_series` turns request rows and GitHub day rows into one continuous daily spine per
  (tenant_id, repo_slug). Days without activity are real observations (zero requests, zero commits) and
  are zero-filled; ``median_merge_hours`` is not a count and stays null on days without a value.
* :func:`correlations` pairs each AI metric on day d with each delivery metric on day d + lag and reports
  Pearson and Spearman correlations, raw and detrended, with Benjamini–Hochberg adjusted p-values.

Detrending is by first differences over consecutive calendar days of the spine: the pair for day d is
(x_d - x_{d-1}, y_{d+L} - y_{d+L-1}). Two series that both drift (a growing team produces more requests
and more commits) correlate strongly in levels even when day-to-day changes are unrelated; differencing
removes such shared trends. A pair is dropped when any of the four values it needs is missing, which only
happens for ``median_merge_hours`` (null on days without merges) or for a series that is not a
continuous spine.

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
from scipy import stats

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
    "pearson_r",
    "pearson_p",
    "spearman_r",
    "spearman_p",
    "raw_pearson_r",
    "raw_pearson_p",
    "raw_spearman_r",
    "raw_spearman_p",
    "pearson_p_adjusted",
    "spearman_p_adjusted",
    "significant",
    "detrended",
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
    "sample_size": "Number of (x, y) pairs behind pearson_r/spearman_r (after differencing when detrended).",
    "pearson_r": "Pearson r of the reported series: first differences (x_d - x_{d-1} against "
    "y_{d+L} - y_{d+L-1}) when detrended, raw levels otherwise. Null when degenerate (see note).",
    "pearson_p": "Two-sided p-value of pearson_r.",
    "spearman_r": "Spearman rank correlation of the reported series (differenced when detrended).",
    "spearman_p": "Two-sided p-value of spearman_r.",
    "raw_pearson_r": "Pearson r of the raw daily levels (x_d against y_{d+L}), without detrending.",
    "raw_pearson_p": "Two-sided p-value of raw_pearson_r.",
    "raw_spearman_r": "Spearman rank correlation of the raw daily levels.",
    "raw_spearman_p": "Two-sided p-value of raw_spearman_r.",
    "pearson_p_adjusted": "Benjamini–Hochberg adjusted pearson_p; family = all non-null tests of this "
    "tenant and repository in this run.",
    "spearman_p_adjusted": "Benjamini–Hochberg adjusted spearman_p, same family.",
    "significant": "pearson_p_adjusted < fdr (default 0.05); false when the p-value is null.",
    "detrended": "True when pearson_*/spearman_* are computed on first differences.",
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
    request; developer_id may be null). ``github``: repo_slug, event_date, commit_count, merged_pr_count,
    median_merge_hours (one row per repo and day; may be empty). Both are restricted to the optional,
    inclusive window [window_start, window_end].

    A (tenant_id, repo_slug) gets a spine when the tenant has at least one request for the repository in
    the window; the spine runs from the first to the last day with any activity, AI requests of that
    tenant or GitHub activity of that repository (GitHub rows are joined on repo_slug alone, so one
    repository's GitHub data serves every tenant using it). Requests without tenant_id, repo_slug or
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
        }
    )
    req = req[in_window(req["day"]) & req["tenant_id"].notna() & req["repo_slug"].notna()]
    if req.empty:
        return _nan_free(pd.DataFrame(columns=SERIES_COLUMNS), SERIES_COLUMNS)

    ai = req.groupby(["tenant_id", "repo_slug", "day"], sort=True).agg(
        requests=("day", "size"),
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
        if gh_days is not None and not gh_days.empty:
            start, end = min(start, gh_days.index.min()), max(end, gh_days.index.max())
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
    adjusted = stats.false_discovery_control(np.array([values[i] for i in index], dtype=float), method="bh")
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
    reason: str | None = None


def _is_constant(values: np.ndarray) -> bool:
    spread = float(np.max(values) - np.min(values))
    return spread <= _CONSTANT_RTOL * max(1.0, float(np.max(np.abs(values))))


def _correlate(x: np.ndarray, y: np.ndarray, x_name: str, y_name: str, min_n: int, suffix: str) -> _Corr:
    """Pearson and Spearman of paired arrays, or nulls and a reason. Never raises, never returns NaN."""
    n = len(x)
    if n < min_n:
        return _Corr(n, reason=f"too few days ({n} < {min_n})")
    constant = [name for name, v in ((x_name, x), (y_name, y)) if _is_constant(v)]
    if constant:
        return _Corr(n, reason=f"constant series{suffix}: {', '.join(constant)}")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            pearson = stats.pearsonr(x, y)
            spearman = stats.spearmanr(x, y)
        except (ValueError, FloatingPointError, ZeroDivisionError) as exc:
            return _Corr(n, reason=f"correlation failed{suffix}: {exc}")
    pr, pp = _finite(pearson.statistic), _finite(pearson.pvalue)
    sr, sp = _finite(spearman.statistic), _finite(spearman.pvalue)
    if pr is None or pp is None or sr is None or sp is None:
        return _Corr(n, reason=f"correlation undefined{suffix}")
    return _Corr(n, pr, min(max(pp, 0.0), 1.0), sr, min(max(sp, 0.0), 1.0))


def _detrended_note(raw: _Corr, rep: _Corr) -> str | None:
    """The note of a detrended test: why the reported (differenced) statistic is null, in raw terms when
    the raw series is already degenerate (a constant series stays constant after differencing)."""
    if rep.reason is None:
        return None if raw.reason is None else f"raw: {raw.reason}"
    if raw.reason is not None and raw.reason.startswith("constant") and rep.reason.startswith("constant"):
        return raw.reason
    return rep.reason


def _lag_pairs(x: np.ndarray, y: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """x[d] paired with y[d + lag]; pairs with a missing value dropped."""
    m = max(len(x) - lag, 0)
    xs, ys = x[:m], y[lag : lag + m]
    keep = np.isfinite(xs) & np.isfinite(ys)
    return xs[keep], ys[keep]


def correlations(
    series: pd.DataFrame,
    *,
    max_lag_days: int = 7,
    min_sample_size: int = 14,
    detrend: bool = True,
    fdr: float = 0.05,
    as_of: date | None = None,
    created_at: datetime,
) -> pd.DataFrame:
    """Lagged Pearson and Spearman correlations of AI usage against delivery metrics.

    ``series`` has the columns of :func:`daily_series`. For each (tenant_id, repo_slug), each x in
    requests, active_developers, total_tokens, cost_usd, each y in commits, merged_prs,
    median_merge_hours and each lag L in 0..max_lag_days, x on day d is paired with y on day d + L
    (days are calendar days; a day missing from the series counts as missing, not as zero).

    * raw_* columns: correlations of the raw daily levels.
    * pearson_*/spearman_*: when ``detrend`` is true, correlations of first differences over consecutive
      days, (x_d - x_{d-1}, y_{d+L} - y_{d+L-1}), dropping pairs that need a missing value; when false,
      equal to the raw columns. ``sample_size`` is the number of pairs behind them.
    * A test with fewer than ``min_sample_size`` pairs, a constant x or y (raw or after differencing), or
      an undefined statistic has null r and p and a ``note``.
    * pearson_p_adjusted / spearman_p_adjusted: Benjamini–Hochberg over all non-null tests of one
      (tenant_id, repo_slug) in this run; ``significant`` = pearson_p_adjusted < ``fdr`` (False when null).

    * correlation_date: ``as_of``, or without it the tenant's own last day in ``series`` (another
      tenant's newer data does not move it).

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
        levels = {m: _numeric(fam[m]).to_numpy() for m in (*X_METRICS, *Y_METRICS)}
        diffs = {m: v[1:] - v[:-1] for m, v in levels.items()}
        family: list[dict[str, Any]] = []
        for x_name in X_METRICS:
            for y_name in Y_METRICS:
                for lag in range(max_lag_days + 1):
                    raw = _correlate(
                        *_lag_pairs(levels[x_name], levels[y_name], lag), x_name, y_name, min_sample_size, ""
                    )
                    if detrend:
                        rep = _correlate(
                            *_lag_pairs(diffs[x_name], diffs[y_name], lag),
                            x_name,
                            y_name,
                            min_sample_size,
                            " after differencing",
                        )
                        note = _detrended_note(raw, rep)
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
                            "pearson_r": rep.pearson_r,
                            "pearson_p": rep.pearson_p,
                            "spearman_r": rep.spearman_r,
                            "spearman_p": rep.spearman_p,
                            "raw_pearson_r": raw.pearson_r,
                            "raw_pearson_p": raw.pearson_p,
                            "raw_spearman_r": raw.spearman_r,
                            "raw_spearman_p": raw.spearman_p,
                            "detrended": bool(detrend),
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

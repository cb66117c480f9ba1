"""A/B experiment results: per variant totals, and differences and tests against the control variant.

* success_rate_p_value: two-sided two-proportion z-test with pooled proportion; its 95% interval
  (success_rate_diff_ci_low/high, percentage points) is the unpooled Wald interval
  diff ± z·√(p1(1 − p1)/n1 + p2(1 − p2)/n2), z = norm.ppf(0.975).
* latency_p_value: Welch's t-test (``scipy.stats.ttest_ind(equal_var=False)``), with its 95% interval of
  the latency difference (Welch–Satterthwaite degrees of freedom).
* srm_p_value: sample-ratio mismatch, the chi-square test of the experiment's observed split across its
  variants against the configured shares (equal shares when none are configured);
  sample_ratio_mismatch when it is below SRM_ALPHA (0.001): the assignment is broken and the comparison
  should not be trusted.

Missing values are Python ``None``, never NaN or inf; a null comparison comes with a ``note``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from prodlens.stats.correlation import _finite, _nan_free, _numeric, _require
from prodlens.stats.scipy_stats import Z_95, scipy_stats

EXPERIMENT_COLUMNS: list[str] = [
    "tenant_id",
    "experiment_id",
    "variant",
    "total_runs",
    "avg_latency_ms",
    "avg_cost",
    "success_count",
    "success_rate",
    "control_variant",
    "success_rate_diff",
    "avg_latency_diff_ms",
    "avg_cost_diff",
    "success_rate_p_value",
    "latency_p_value",
    "success_rate_diff_ci_low",
    "success_rate_diff_ci_high",
    "avg_latency_diff_ci_low_ms",
    "avg_latency_diff_ci_high_ms",
    "srm_p_value",
    "sample_ratio_mismatch",
    "note",
    "created_at",
]


#: Below this chi-square p-value the observed split is a sample-ratio mismatch.
SRM_ALPHA = 0.001


def proportion_diff_interval(s1: int, n1: int, s2: int, n2: int) -> tuple[float | None, float | None]:
    """95% Wald interval of s1/n1 − s2/n2 (unpooled); None for an empty group."""
    if n1 <= 0 or n2 <= 0:
        return None, None
    p1, p2 = s1 / n1, s2 / n2
    half = Z_95 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return p1 - p2 - half, p1 - p2 + half


def sample_ratio_p(counts: Mapping[Any, int], shares: Mapping[Any, float] | None = None) -> float | None:
    """Chi-square p-value of the observed variant counts against ``shares`` (weights, normalised; equal
    when None). None for fewer than two variants, no runs, or a variant without a share."""
    variants = sorted(counts, key=str)
    if len(variants) < 2:
        return None
    given: list[float | None] = [1.0] * len(variants) if shares is None else [shares.get(v) for v in variants]
    weights = [float(w) for w in given if w is not None and w > 0]
    total = sum(counts.values())
    if len(weights) < len(variants) or total == 0:
        return None
    expected = [total * w / sum(weights) for w in weights]
    return _finite(scipy_stats().chisquare([counts[v] for v in variants], expected).pvalue)


def two_proportion_z_test(s1: int, n1: int, s2: int, n2: int) -> float | None:
    """Two-sided p-value of H0: s1/n1 = s2/n2, z-test with the pooled proportion.

    None when a group is empty or the pooled proportion is 0 or 1 (the test statistic is undefined).
    """
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (s1 + s2) / (n1 + n2)
    if pooled <= 0 or pooled >= 1:
        return None
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (s1 / n1 - s2 / n2) / se
    return _finite(2 * scipy_stats().norm.sf(abs(z)))


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Welch's p-value of mean(a) − mean(b) and its 95% interval."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            result = scipy_stats().ttest_ind(a, b, equal_var=False)
            interval = result.confidence_interval(confidence_level=0.95)
        except (ValueError, FloatingPointError, ZeroDivisionError):
            return None, None, None
    p = _finite(result.pvalue)
    if p is None:
        return None, None, None
    return p, _finite(interval.low), _finite(interval.high)


def _mean(values: pd.Series) -> float | None:
    present = values.dropna()
    return float(present.mean()) if len(present) else None


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def experiment_results(
    requests: pd.DataFrame,
    *,
    control_variant: str = "control",
    shares: Mapping[Any, Mapping[Any, float]] | None = None,
    created_at: datetime,
) -> pd.DataFrame:
    """One row per tenant_id, experiment_id and variant, compared with the control variant.

    ``requests``: tenant_id, experiment_id, variant, status ('success' / 'error'), latency_ms, cost_usd.
    total_runs counts all rows, success_count the rows with status 'success'; success_rate is in percent
    (0–100, 2 decimals); averages skip null values. For a non-control variant: success_rate_diff
    (percentage points, variant minus control, from the unrounded rates, 2 decimals), avg_latency_diff_ms,
    avg_cost_diff (variant minus control), success_rate_p_value (two-proportion z-test) and
    latency_p_value (Welch, needs 2 latencies in each variant), their 95% intervals, and the experiment's
    srm_p_value against ``shares[experiment_id]`` (variant -> weight; equal shares when absent) with
    sample_ratio_mismatch = srm_p_value < SRM_ALPHA. The control row has null comparisons;
    an experiment without the control variant has null comparisons and a note. Rows without tenant_id,
    experiment_id or variant are ignored.

    Columns: ``EXPERIMENT_COLUMNS``, object-typed, None for missing.
    """
    _require(
        requests, ["tenant_id", "experiment_id", "variant", "status", "latency_ms", "cost_usd"], "requests"
    )
    frame = pd.DataFrame(
        {
            "tenant_id": requests["tenant_id"],
            "experiment_id": requests["experiment_id"],
            "variant": requests["variant"],
            "success": (requests["status"] == "success").fillna(False).astype(bool),
            "latency_ms": _numeric(requests["latency_ms"]),
            "cost_usd": _numeric(requests["cost_usd"]),
        }
    )
    frame = frame[frame["tenant_id"].notna() & frame["experiment_id"].notna() & frame["variant"].notna()]
    rows: list[dict[str, Any]] = []
    for (tenant, experiment), exp in frame.groupby(["tenant_id", "experiment_id"], sort=True):
        groups = {variant: part for variant, part in exp.groupby("variant", sort=True)}
        control = groups.get(control_variant)
        srm_p = sample_ratio_p({v: len(part) for v, part in groups.items()}, (shares or {}).get(experiment))
        for variant, part in groups.items():
            total = len(part)
            successes = int(part["success"].sum())
            avg_latency = _mean(part["latency_ms"])
            avg_cost = _mean(part["cost_usd"])
            row: dict[str, Any] = dict.fromkeys(EXPERIMENT_COLUMNS)
            row.update(
                tenant_id=tenant,
                experiment_id=experiment,
                variant=variant,
                total_runs=total,
                avg_latency_ms=avg_latency,
                avg_cost=avg_cost,
                success_count=successes,
                success_rate=round(100 * successes / total, 2),
                control_variant=control_variant,
                created_at=created_at,
            )
            if variant == control_variant:
                rows.append(row)
                continue
            if control is None:
                row["note"] = f"no control variant {control_variant!r} in this experiment"
                rows.append(row)
                continue
            notes: list[str] = []
            c_total = len(control)
            c_successes = int(control["success"].sum())
            row["success_rate_diff"] = round(100 * (successes / total - c_successes / c_total), 2)
            row["avg_latency_diff_ms"] = _diff(avg_latency, _mean(control["latency_ms"]))
            row["avg_cost_diff"] = _diff(avg_cost, _mean(control["cost_usd"]))
            row["success_rate_p_value"] = two_proportion_z_test(successes, total, c_successes, c_total)
            low, high = proportion_diff_interval(successes, total, c_successes, c_total)
            row["success_rate_diff_ci_low"] = None if low is None else 100 * low
            row["success_rate_diff_ci_high"] = None if high is None else 100 * high
            row["srm_p_value"] = srm_p
            row["sample_ratio_mismatch"] = None if srm_p is None else srm_p < SRM_ALPHA
            if row["sample_ratio_mismatch"]:
                notes.append(f"sample-ratio mismatch (p={srm_p:.2g}): the split is not the configured one")
            if row["success_rate_p_value"] is None:
                notes.append("success-rate z-test undefined: every run succeeded or every run failed")
            a = part["latency_ms"].dropna().to_numpy()
            b = control["latency_ms"].dropna().to_numpy()
            if len(a) < 2 or len(b) < 2:
                notes.append(
                    f"Welch t-test needs at least 2 latencies per variant ({variant!s} {len(a)}, "
                    f"{control_variant} {len(b)})"
                )
            else:
                (
                    row["latency_p_value"],
                    row["avg_latency_diff_ci_low_ms"],
                    row["avg_latency_diff_ci_high_ms"],
                ) = _welch(a, b)
                if row["latency_p_value"] is None:
                    notes.append("latency p-value undefined (no latency variance)")
            row["note"] = "; ".join(notes) or None
            rows.append(row)
    return _nan_free(pd.DataFrame(rows, columns=EXPERIMENT_COLUMNS), EXPERIMENT_COLUMNS)

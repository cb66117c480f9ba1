"""Effect sizes of AI usage per tenant, in long format (one row per tenant and metric).

Metrics:

* ``latency_cohens_d``: latency of accepted (group a) against not-accepted (group b) requests. ``value``
  is Hedges' g (Cohen's d with pooled SD times J = 1 - 3 / (4 (na + nb) - 9)), ``cohens_d`` the
  uncorrected d; the 95% CI is g ± z · se (z = norm.ppf(0.975)) with se = sqrt((na + nb) / (na nb) + g² / (2 (na + nb))).
  A positive value means accepted requests were slower.
* ``token_efficiency_ratio``: mean total_tokens of accepted requests / mean total_tokens of tracked requests.
* ``model_acceptance_rate``: per model, the share of accepted requests with a Wilson 95% interval.
* ``session_growth_percent``: requests in the 7 days ending at as_of against the 7 days before, in percent.

Acceptance is tracked only for requests whose record carried an acceptance field (``accepted`` not
null): every acceptance figure is computed over tracked requests and reports that n; untracked requests
are neither accepted nor rejected. Where nothing is tracked, the note says "acceptance not tracked".

Missing values are Python ``None``, never NaN or inf; a null value comes with a ``note``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from prodlens.stats.correlation import _finite, _nan_free, _numeric, _require, _to_day
from prodlens.stats.scipy_stats import Z_95

EFFECT_COLUMNS: list[str] = [
    "tenant_id",
    "metric",
    "model",
    "value",
    "cohens_d",
    "ci_low",
    "ci_high",
    "n_group_a",
    "n_group_b",
    "n",
    "interpretation",
    "note",
    "as_of",
    "created_at",
]

#: The note of an acceptance figure when no request of the tenant carried an acceptance field.
NOT_TRACKED = "acceptance not tracked"

#: Label of requests without a model in the model_acceptance_rate rows.
UNKNOWN_MODEL = "unknown"


def interpret_d(d: float | None) -> str | None:
    """Cohen's conventional label for |d|: negligible (< 0.2), small (< 0.5), medium (< 0.8), large."""
    value = _finite(d)
    if value is None:
        return None
    size = abs(value)
    if size < 0.2:
        return "negligible"
    if size < 0.5:
        return "small"
    if size < 0.8:
        return "medium"
    return "large"


def hedges_g(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray
) -> tuple[float | None, float | None, float | None, float | None, float | None]:
    """(d, g, se, ci_low, ci_high) for group a against group b; all None when undefined.

    d = (mean_a - mean_b) / pooled SD (sample variances, ddof = 1); g = J · d with
    J = 1 - 3 / (4 (na + nb) - 9); se = sqrt((na + nb) / (na nb) + g² / (2 (na + nb))); CI = g ± z se, z = norm.ppf(0.975).
    Non-finite values are dropped. Undefined with fewer than 2 values in a group or zero pooled SD.
    """
    xa = np.asarray(a, dtype=float)
    xb = np.asarray(b, dtype=float)
    xa, xb = xa[np.isfinite(xa)], xb[np.isfinite(xb)]
    na, nb = len(xa), len(xb)
    if na < 2 or nb < 2:
        return None, None, None, None, None
    pooled_var = ((na - 1) * xa.var(ddof=1) + (nb - 1) * xb.var(ddof=1)) / (na + nb - 2)
    if not (math.isfinite(pooled_var) and pooled_var > 0):
        return None, None, None, None, None
    d = float((xa.mean() - xb.mean()) / math.sqrt(pooled_var))
    g = (1 - 3 / (4 * (na + nb) - 9)) * d
    se = math.sqrt((na + nb) / (na * nb) + g**2 / (2 * (na + nb)))
    if not all(math.isfinite(v) for v in (d, g, se)):
        return None, None, None, None, None
    return d, g, se, g - Z_95 * se, g + Z_95 * se


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion successes / n; (None, None) when n is 0."""
    if n <= 0:
        return None, None
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n ({n}), got {successes}")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _tracked(value: Any) -> float | None:
    """1.0 / 0.0 for an accepted / not-accepted request, None when acceptance was not tracked."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return 1.0 if bool(value) else 0.0


def _row(tenant: Any, metric: str, created_at: datetime, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(EFFECT_COLUMNS)
    row.update(tenant_id=tenant, metric=metric, created_at=created_at, **values)
    return row


def _latency_row(tenant: Any, part: pd.DataFrame, created_at: datetime) -> dict[str, Any]:
    latency = part["latency_ms"]
    a = latency[(part["accepted"] == 1) & latency.notna()].to_numpy()
    b = latency[(part["accepted"] == 0) & latency.notna()].to_numpy()
    na, nb = len(a), len(b)
    d, g, _se, low, high = hedges_g(a, b)
    note = None
    if not part["accepted"].notna().any():
        note = NOT_TRACKED
    elif na < 2 or nb < 2:
        note = f"needs at least 2 requests with latency in each group (accepted {na}, not accepted {nb})"
    elif g is None:
        note = "latency has zero variance in both groups"
    return _row(
        tenant,
        "latency_cohens_d",
        created_at,
        value=g,
        cohens_d=d,
        ci_low=low,
        ci_high=high,
        n_group_a=na,
        n_group_b=nb,
        n=na + nb,
        interpretation=interpret_d(g),
        note=note,
    )


def _token_row(tenant: Any, part: pd.DataFrame, created_at: datetime) -> dict[str, Any]:
    tracked = part[part["total_tokens"].notna() & part["accepted"].isin([0, 1])]
    accepted = tracked[tracked["accepted"] == 1]["total_tokens"]
    overall = tracked["total_tokens"]
    n_accepted, n_other = len(accepted), len(overall) - len(accepted)
    value = note = None
    if not part["accepted"].notna().any():
        note = NOT_TRACKED
    elif n_accepted == 0:
        note = "no accepted requests with token counts"
    elif float(overall.mean()) == 0:
        note = "requests used zero tokens"
    else:
        value = float(accepted.mean()) / float(overall.mean())
    return _row(
        tenant,
        "token_efficiency_ratio",
        created_at,
        value=value,
        n_group_a=n_accepted,
        n_group_b=n_other,
        n=len(overall),
        note=note,
    )


def _model_rows(tenant: Any, part: pd.DataFrame, created_at: datetime) -> list[dict[str, Any]]:
    known = part[part["accepted"].isin([0, 1])]
    models = known["model"].astype(object).where(known["model"].notna(), UNKNOWN_MODEL)
    rows = []
    for model, flags in known["accepted"].groupby(models, sort=True):
        n = len(flags)
        successes = int((flags == 1).sum())
        low, high = wilson_interval(successes, n)
        rows.append(
            _row(
                tenant,
                "model_acceptance_rate",
                created_at,
                model=model,
                value=successes / n,
                ci_low=low,
                ci_high=high,
                n_group_a=successes,
                n_group_b=n - successes,
                n=n,
            )
        )
    return rows


def _last_day(days: pd.Series, created_at: datetime) -> date:
    """The last day of `days`, or the day of `created_at` when there is none."""
    known = days.dropna()
    return known.max().date() if len(known) else created_at.date()


def _growth_row(tenant: Any, part: pd.DataFrame, as_of: date, created_at: datetime) -> dict[str, Any]:
    end = pd.Timestamp(as_of)
    day, weight = part["day"], part["request_count"]
    last = int(weight[(day >= end - timedelta(days=6)) & (day <= end)].sum())
    prev = int(weight[(day >= end - timedelta(days=13)) & (day <= end - timedelta(days=7))].sum())
    value = note = None
    if prev == 0:
        note = "no requests in the previous 7 days"
    else:
        value = (last - prev) / prev * 100
    return _row(
        tenant,
        "session_growth_percent",
        created_at,
        value=value,
        n_group_a=last,
        n_group_b=prev,
        n=last + prev,
        note=note,
    )


def effect_sizes(requests: pd.DataFrame, *, as_of: date | None = None, created_at: datetime) -> pd.DataFrame:
    """Effect-size rows per tenant: latency_cohens_d, token_efficiency_ratio, model_acceptance_rate (one row
    per model) and session_growth_percent.

    ``requests``: tenant_id, event_date, model, accepted (true/false or 1/0; null = not tracked), latency_ms (may be
    null), total_tokens; one row per request, except that an optional ``request_count`` column may stand a
    row for that many untracked requests of its tenant and day (what the dbt model hands over, so that
    pandas does not hold a row per untracked request; a tracked row counts once). All rows are used for
    the first three metrics; session_growth_percent compares
    requests on as_of-6..as_of (n_group_a) with as_of-13..as_of-7 (n_group_b); without ``as_of``, each
    tenant's as-of date is its own last day with requests, so one tenant's newer data never empties another
    tenant's window. Every row carries its tenant's as_of. Rows without tenant_id are
    ignored; rows with a null accepted (not tracked) count only for session growth;
    requests without a model are reported under model "unknown".

    Columns (``EFFECT_COLUMNS``): tenant_id, metric, model (only for model_acceptance_rate), value,
    cohens_d (only for latency_cohens_d: the uncorrected d; value is Hedges' g), ci_low, ci_high,
    n_group_a, n_group_b, n, interpretation (only for latency_cohens_d), note, as_of, created_at.
    """
    _require(
        requests,
        ["tenant_id", "event_date", "model", "accepted", "latency_ms", "total_tokens"],
        "requests",
    )
    frame = pd.DataFrame(
        {
            "tenant_id": requests["tenant_id"],
            "day": _to_day(requests["event_date"]),
            "model": requests["model"],
            "accepted": _numeric(requests["accepted"].astype(object).map(_tracked)),
            "latency_ms": _numeric(requests["latency_ms"]),
            "total_tokens": _numeric(requests["total_tokens"]),
            "request_count": _numeric(requests["request_count"]) if "request_count" in requests else 1.0,
        }
    )
    frame = frame[frame["tenant_id"].notna()]
    if (frame["request_count"] != 1).any() and frame.loc[
        frame["request_count"] != 1, "accepted"
    ].notna().any():
        raise ValueError("requests: a row with request_count other than 1 must be untracked (accepted null)")
    rows: list[dict[str, Any]] = []
    for tenant, part in frame.groupby("tenant_id", sort=True):
        tenant_as_of = as_of or _last_day(part["day"], created_at)
        tenant_rows = [
            _latency_row(tenant, part, created_at),
            _token_row(tenant, part, created_at),
            *_model_rows(tenant, part, created_at),
            _growth_row(tenant, part, tenant_as_of, created_at),
        ]
        rows.extend({**row, "as_of": tenant_as_of} for row in tenant_rows)
    return _nan_free(pd.DataFrame(rows, columns=EFFECT_COLUMNS), EFFECT_COLUMNS)

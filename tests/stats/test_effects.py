"""Tests of prodlens.stats.effects against hand formulas."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from prodlens.stats import effect_sizes, hedges_g, interpret_d, wilson_interval
from prodlens.stats.effects import EFFECT_COLUMNS

AS_OF = date(2024, 3, 31)
CREATED = datetime(2024, 3, 31, 6, 0)
Z = stats.norm.ppf(0.975)


def assert_no_nan(frame: pd.DataFrame) -> None:
    for value in frame.to_numpy().ravel():
        assert value is not pd.NA and value is not pd.NaT
        if isinstance(value, float | np.floating):
            assert math.isfinite(value), frame


def hand_hedges(a: list[float], b: list[float]) -> tuple[float, float, float]:
    na, nb = len(a), len(b)
    ma, mb = sum(a) / na, sum(b) / nb
    va = sum((v - ma) ** 2 for v in a) / (na - 1)
    vb = sum((v - mb) ** 2 for v in b) / (nb - 1)
    d = (ma - mb) / math.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
    g = d * (1 - 3 / (4 * (na + nb) - 9))
    se = math.sqrt((na + nb) / (na * nb) + g * g / (2 * (na + nb)))
    return d, g, se


def hand_wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


def test_hedges_g_matches_hand_formula() -> None:
    a = [410.0, 520.0, 480.0, 390.0, 600.0, 455.0]
    b = [300.0, 350.0, 420.0, 310.0, 280.0]
    d, g, se, low, high = hedges_g(a, b)
    hd, hg, hse = hand_hedges(a, b)
    assert d == pytest.approx(hd)
    assert g == pytest.approx(hg)
    assert se == pytest.approx(hse)
    assert low == pytest.approx(hg - Z * hse) and high == pytest.approx(hg + Z * hse)
    assert abs(g) < abs(d)  # the small-sample correction shrinks towards zero
    assert hedges_g([1.0], [1.0, 2.0]) == (None, None, None, None, None)
    assert hedges_g([3.0, 3.0], [3.0, 3.0]) == (None, None, None, None, None)


def test_interpret_d_thresholds() -> None:
    assert [interpret_d(v) for v in (0.0, -0.19, 0.2, -0.49, 0.5, 0.79, -0.8, 3.0)] == [
        "negligible",
        "negligible",
        "small",
        "small",
        "medium",
        "medium",
        "large",
        "large",
    ]
    assert interpret_d(None) is None and interpret_d(float("nan")) is None


def test_wilson_interval_matches_hand_formula() -> None:
    for k, n in [(45, 100), (1, 7), (19, 20)]:
        low, high = wilson_interval(k, n)
        hl, hh = hand_wilson(k, n)
        assert low == pytest.approx(hl) and high == pytest.approx(hh)
    # Known value: 0 of 10 gives [0, z² / (n + z²)] = [0, 0.2775].
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12)
    assert high == pytest.approx(Z * Z / (10 + Z * Z)) and high == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(0, 0) == (None, None)


def make_requests() -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    accepted_latency = [410.0, 520.0, 480.0, 390.0, 600.0, 455.0]
    rejected_latency = [300.0, 350.0, 420.0, 310.0, 280.0]
    for i, latency in enumerate(accepted_latency):
        rows.append(
            {
                "tenant_id": "t1",
                "event_date": AS_OF - timedelta(days=i),
                "model": "gpt-4o",
                "accepted": True,
                "latency_ms": latency,
                "total_tokens": 1000,
            }
        )
    for i, latency in enumerate(rejected_latency):
        rows.append(
            {
                "tenant_id": "t1",
                "event_date": AS_OF - timedelta(days=8 + i),
                "model": "claude",
                "accepted": False,
                "latency_ms": latency,
                "total_tokens": 3000,
            }
        )
    # Acceptance not tracked, and a missing latency: counted where they can be.
    rows.append(
        {
            "tenant_id": "t1",
            "event_date": AS_OF - timedelta(days=20),
            "model": "claude",
            "accepted": None,
            "latency_ms": None,
            "total_tokens": 2000,
        }
    )
    rows.append(
        {
            "tenant_id": "t1",
            "event_date": AS_OF - timedelta(days=2),
            "model": "claude",
            "accepted": True,
            "latency_ms": None,
            "total_tokens": 500,
        }
    )
    # t2: one accepted request only, nothing in the previous week.
    rows.append(
        {
            "tenant_id": "t2",
            "event_date": AS_OF,
            "model": None,
            "accepted": True,
            "latency_ms": 100.0,
            "total_tokens": 0,
        }
    )
    return pd.DataFrame(rows)


def test_effect_sizes_rows() -> None:
    out = effect_sizes(make_requests(), as_of=AS_OF, created_at=CREATED)
    assert list(out.columns) == EFFECT_COLUMNS
    assert_no_nan(out)
    t1 = out[out["tenant_id"] == "t1"].set_index(["metric", "model"], drop=False)

    latency = out[(out["tenant_id"] == "t1") & (out["metric"] == "latency_cohens_d")].iloc[0]
    hd, hg, hse = hand_hedges([410.0, 520.0, 480.0, 390.0, 600.0, 455.0], [300.0, 350.0, 420.0, 310.0, 280.0])
    assert latency["value"] == pytest.approx(hg) and latency["cohens_d"] == pytest.approx(hd)
    assert latency["ci_low"] == pytest.approx(hg - Z * hse)
    assert latency["ci_high"] == pytest.approx(hg + Z * hse)
    assert (latency["n_group_a"], latency["n_group_b"], latency["n"]) == (6, 5, 11)
    assert latency["interpretation"] == "large" and latency["model"] is None and latency["note"] is None

    token = out[(out["tenant_id"] == "t1") & (out["metric"] == "token_efficiency_ratio")].iloc[0]
    accepted_mean = (6 * 1000 + 500) / 7
    overall_mean = (6 * 1000 + 5 * 3000 + 500) / 12  # tracked requests only: not the untracked 2000
    assert token["value"] == pytest.approx(accepted_mean / overall_mean)
    assert token["cohens_d"] is None and token["interpretation"] is None

    models = out[(out["tenant_id"] == "t1") & (out["metric"] == "model_acceptance_rate")]
    assert models["model"].tolist() == ["claude", "gpt-4o"]
    claude = models.iloc[0]
    assert claude["value"] == pytest.approx(1 / 6)
    assert (claude["n_group_a"], claude["n"]) == (1, 6)
    assert (claude["ci_low"], claude["ci_high"]) == pytest.approx(hand_wilson(1, 6))
    assert models.iloc[1]["value"] == 1.0

    growth = out[(out["tenant_id"] == "t1") & (out["metric"] == "session_growth_percent")].iloc[0]
    # as_of-6..as_of: 6 accepted (days 0..5) + the day-2 request = 7; as_of-13..as_of-7: 5 rejected.
    assert (growth["n_group_a"], growth["n_group_b"]) == (7, 5)
    assert growth["value"] == pytest.approx((7 - 5) / 5 * 100)
    assert len(t1) == 5


def test_untracked_requests_summed_per_day_give_the_same_rows() -> None:
    """The dbt model hands over the untracked requests as one row per tenant and day with request_count:
    the same effect sizes as a row per request."""
    single = make_requests()
    untracked = [
        {
            "tenant_id": "t1",
            "event_date": AS_OF - timedelta(days=d),
            "model": m,
            "accepted": None,
            "latency_ms": 200.0,
            "total_tokens": 100,
        }
        for d, m in ((1, "claude"), (1, "gpt-4o"), (1, None), (9, "claude"), (9, "claude"), (30, "claude"))
    ]
    single = pd.concat([single, pd.DataFrame(untracked)], ignore_index=True)
    tracked = single[single["accepted"].notna()].assign(request_count=1)
    summed = (
        single[single["accepted"].isna()]
        .groupby(["tenant_id", "event_date"], as_index=False)
        .size()
        .rename(columns={"size": "request_count"})
        .assign(model=None, accepted=None, latency_ms=None, total_tokens=None)
    )
    assert len(summed) == 4  # three days of untracked requests plus the existing day-20 one
    got = effect_sizes(pd.concat([tracked, summed], ignore_index=True), as_of=AS_OF, created_at=CREATED)
    expected = effect_sizes(single, as_of=AS_OF, created_at=CREATED)
    assert got.to_dict("records") == expected.to_dict("records")
    growth = got[(got["tenant_id"] == "t1") & (got["metric"] == "session_growth_percent")].iloc[0]
    assert (growth["n_group_a"], growth["n_group_b"]) == (7 + 3, 5 + 2)
    with pytest.raises(ValueError, match="must be untracked"):
        effect_sizes(tracked.assign(request_count=2), as_of=AS_OF, created_at=CREATED)


def test_effect_sizes_degenerate_tenant() -> None:
    out = effect_sizes(make_requests(), as_of=AS_OF, created_at=CREATED)
    assert_no_nan(out)
    t2 = out[out["tenant_id"] == "t2"].set_index("metric")
    assert t2.loc["latency_cohens_d", "value"] is None
    assert "at least 2" in t2.loc["latency_cohens_d", "note"]
    assert t2.loc["token_efficiency_ratio", "value"] is None
    assert t2.loc["token_efficiency_ratio", "note"] == "requests used zero tokens"
    assert t2.loc["model_acceptance_rate", "model"] == "unknown"
    assert t2.loc["session_growth_percent", "value"] is None
    assert t2.loc["session_growth_percent", "note"] == "no requests in the previous 7 days"
    assert (out["created_at"] == CREATED).all()


def test_effect_sizes_empty() -> None:
    empty = pd.DataFrame(
        columns=["tenant_id", "event_date", "model", "accepted", "latency_ms", "total_tokens"]
    )
    out = effect_sizes(empty, as_of=AS_OF, created_at=CREATED)
    assert out.empty and list(out.columns) == EFFECT_COLUMNS


def test_each_tenant_has_its_own_as_of_date() -> None:
    """Without an as-of date, session growth uses each tenant's own last day: t3's data ends 30 days
    before t1's, and its growth is still computed over its own last two weeks (not an empty window)."""
    t3 = [
        {
            "tenant_id": "t3",
            "event_date": AS_OF - timedelta(days=30 + d),
            "model": "m",
            "accepted": True,
            "latency_ms": 100.0,
            "total_tokens": 10,
        }
        for d in (0, 1, 2, 8)
    ]
    requests = pd.concat([make_requests(), pd.DataFrame(t3)], ignore_index=True)
    out = effect_sizes(requests, created_at=CREATED)
    as_of = out.groupby("tenant_id")["as_of"].unique().to_dict()
    assert {k: list(v) for k, v in as_of.items()} == {
        "t1": [AS_OF],
        "t2": [AS_OF],
        "t3": [AS_OF - timedelta(days=30)],
    }
    growth = out[(out["tenant_id"] == "t3") & (out["metric"] == "session_growth_percent")].iloc[0]
    assert (growth["n_group_a"], growth["n_group_b"]) == (3, 1)
    assert growth["value"] == pytest.approx((3 - 1) / 1 * 100)
    # an explicit as-of date applies to every tenant
    fixed = effect_sizes(requests, as_of=AS_OF, created_at=CREATED)
    assert set(fixed["as_of"]) == {AS_OF}


def test_untracked_requests_are_neither_accepted_nor_rejected() -> None:
    """A population where most requests never reported acceptance (LiteLLM's default): every acceptance
    figure uses the tracked ones only, as computed here with scipy; a tenant with nothing tracked says so."""
    rng = np.random.default_rng(8)
    tracked_latency = {True: rng.normal(500, 60, 40), False: rng.normal(470, 60, 25)}
    untracked_latency = rng.normal(200, 30, 300)  # fast failures and untracked calls: must not count
    rows = [
        {"tenant_id": "t1", "event_date": AS_OF, "model": "m", "accepted": flag, "latency_ms": float(v),
         "total_tokens": 1000 if flag else 1500}
        for flag, values in tracked_latency.items() for v in values
    ] + [
        {"tenant_id": "t1", "event_date": AS_OF, "model": "m", "accepted": None, "latency_ms": float(v),
         "total_tokens": 9000}
        for v in untracked_latency
    ] + [
        {"tenant_id": "t3", "event_date": AS_OF, "model": "m", "accepted": None, "latency_ms": 100.0,
         "total_tokens": 10}
        for _ in range(5)
    ]  # fmt: skip
    out = effect_sizes(pd.DataFrame(rows), as_of=AS_OF, created_at=CREATED)
    t1 = out[out["tenant_id"] == "t1"].set_index("metric")
    a, b = tracked_latency[True], tracked_latency[False]
    pooled = math.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    g = (a.mean() - b.mean()) / pooled * (1 - 3 / (4 * (len(a) + len(b)) - 9))
    assert t1.loc["latency_cohens_d", "value"] == pytest.approx(g, rel=1e-12)
    assert t1.loc["latency_cohens_d", "n"] == 65
    rate = t1.loc["model_acceptance_rate"]
    assert (rate["value"], rate["n"]) == (pytest.approx(40 / 65), 65)
    z = stats.norm.ppf(0.975)
    centre = (40 / 65 + z * z / 130) / (1 + z * z / 65)
    half = z / (1 + z * z / 65) * math.sqrt(40 / 65 * 25 / 65 / 65 + z * z / (4 * 65 * 65))
    assert (rate["ci_low"], rate["ci_high"]) == (pytest.approx(centre - half), pytest.approx(centre + half))
    # mean tokens of accepted requests over the mean of tracked requests (the 9,000-token untracked excluded)
    assert t1.loc["token_efficiency_ratio", "value"] == pytest.approx(1000 / ((40 * 1000 + 25 * 1500) / 65))
    t3 = out[out["tenant_id"] == "t3"].set_index("metric")
    assert "model_acceptance_rate" not in t3.index
    assert t3.loc["latency_cohens_d", "note"] == "acceptance not tracked"
    assert t3.loc["token_efficiency_ratio", "note"] == "acceptance not tracked"
    assert t3.loc["latency_cohens_d", "value"] is None

"""Tests of prodlens.stats.experiments against hand-computed values and scipy."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from prodlens.stats import experiment_results, two_proportion_z_test
from prodlens.stats.experiments import EXPERIMENT_COLUMNS

CREATED = datetime(2024, 3, 31, 6, 0)


def assert_no_nan(frame: pd.DataFrame) -> None:
    for value in frame.to_numpy().ravel():
        assert value is not pd.NA and value is not pd.NaT
        if isinstance(value, float | np.floating):
            assert math.isfinite(value), frame


def test_two_proportion_z_test_by_hand() -> None:
    # 45/100 vs 30/100: pooled p = 0.375, se = sqrt(0.375 * 0.625 * (1/100 + 1/100)) = 0.0684653,
    # z = 0.15 / se = 2.19089, two-sided p = erfc(z / sqrt 2) = 0.028459.
    pooled = 75 / 200
    z = 0.15 / math.sqrt(pooled * (1 - pooled) * 0.02)
    assert z == pytest.approx(2.19089, abs=1e-5)
    assert two_proportion_z_test(45, 100, 30, 100) == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert two_proportion_z_test(45, 100, 30, 100) == pytest.approx(0.028459, abs=1e-6)
    assert two_proportion_z_test(30, 100, 45, 100) == pytest.approx(0.028459, abs=1e-6)
    assert two_proportion_z_test(10, 10, 20, 20) is None
    assert two_proportion_z_test(0, 10, 0, 20) is None
    assert two_proportion_z_test(1, 0, 1, 10) is None


def runs(
    tenant: str, experiment: str, variant: str, successes: int, n: int, latency: np.ndarray, cost: float
) -> list[dict[str, object]]:
    return [
        {
            "tenant_id": tenant,
            "experiment_id": experiment,
            "variant": variant,
            "status": "success" if i < successes else "error",
            "latency_ms": float(latency[i]),
            "cost_usd": cost,
        }
        for i in range(n)
    ]


def test_experiment_results() -> None:
    rng = np.random.default_rng(11)
    control_latency = rng.normal(800, 50, 100)
    treatment_latency = rng.normal(760, 90, 100)
    frame = pd.DataFrame(
        runs("t1", "exp-1", "control", 30, 100, control_latency, 0.02)
        + runs("t1", "exp-1", "treatment", 45, 100, treatment_latency, 0.03)
        + runs("t1", "exp-2", "a", 2, 3, np.array([100.0, 110.0, 120.0]), 0.01)
        + runs("t1", "exp-2", "b", 1, 2, np.array([90.0, 95.0]), 0.01)
    )
    frame.loc[0, "latency_ms"] = None  # a missing latency is skipped by the averages and the t-test
    out = experiment_results(frame, created_at=CREATED)
    assert list(out.columns) == EXPERIMENT_COLUMNS
    assert_no_nan(out)
    rows = out.set_index(["experiment_id", "variant"])

    control = rows.loc[("exp-1", "control")]
    assert (control["total_runs"], control["success_count"], control["success_rate"]) == (100, 30, 30.0)
    assert control["avg_latency_ms"] == pytest.approx(control_latency[1:].mean())
    assert control["control_variant"] == "control"
    for column in (
        "success_rate_diff",
        "avg_latency_diff_ms",
        "avg_cost_diff",
        "success_rate_p_value",
        "latency_p_value",
        "success_rate_diff_ci_low",
        "avg_latency_diff_ci_low_ms",
        "srm_p_value",
        "sample_ratio_mismatch",
        "note",
    ):
        assert control[column] is None

    treatment = rows.loc[("exp-1", "treatment")]
    assert treatment["success_rate"] == 45.0
    assert treatment["success_rate_diff"] == pytest.approx(15.0)
    expected_diff = treatment_latency.mean() - control_latency[1:].mean()
    assert treatment["avg_latency_diff_ms"] == pytest.approx(expected_diff)
    assert treatment["avg_cost_diff"] == pytest.approx(0.01)
    assert treatment["success_rate_p_value"] == pytest.approx(0.028459, abs=1e-6)
    welch = stats.ttest_ind(treatment_latency, control_latency[1:], equal_var=False)
    assert treatment["latency_p_value"] == pytest.approx(welch.pvalue)
    assert treatment["note"] is None
    assert treatment["created_at"] == CREATED
    # 95% intervals: Wald for the success-rate difference (percentage points), Welch's for latency
    z = stats.norm.ppf(0.975)
    half = z * math.sqrt(0.45 * 0.55 / 100 + 0.30 * 0.70 / 100)
    assert treatment["success_rate_diff_ci_low"] == pytest.approx(100 * (0.15 - half))
    assert treatment["success_rate_diff_ci_high"] == pytest.approx(100 * (0.15 + half))
    va, vb = treatment_latency.var(ddof=1) / 100, control_latency[1:].var(ddof=1) / 99
    df = (va + vb) ** 2 / (va**2 / 99 + vb**2 / 98)
    t = stats.t.ppf(0.975, df)
    assert treatment["avg_latency_diff_ci_low_ms"] == pytest.approx(expected_diff - t * math.sqrt(va + vb))
    assert treatment["avg_latency_diff_ci_high_ms"] == pytest.approx(expected_diff + t * math.sqrt(va + vb))
    # 100 / 100 runs against equal shares: no mismatch
    assert treatment["srm_p_value"] == pytest.approx(1.0)
    assert treatment["sample_ratio_mismatch"] is False

    # exp-2 has no control: comparisons are null and the note says why.
    for variant in ("a", "b"):
        row = rows.loc[("exp-2", variant)]
        assert row["note"] == "no control variant 'control' in this experiment"
        assert row["success_rate_diff"] is None and row["latency_p_value"] is None
    assert rows.loc[("exp-2", "a"), "success_rate"] == pytest.approx(66.67)


def test_experiment_results_other_control_and_degenerate_tests() -> None:
    frame = pd.DataFrame(
        runs("t1", "exp-2", "a", 3, 3, np.array([100.0, 110.0, 120.0]), 0.01)
        + runs("t1", "exp-2", "b", 1, 1, np.array([90.0]), 0.01)
        + runs("t2", "exp-3", "a", 1, 2, np.array([50.0, 50.0]), 0.01)
        + runs("t2", "exp-3", "b", 0, 2, np.array([50.0, 50.0]), 0.01)
    )
    out = experiment_results(frame, control_variant="a", created_at=CREATED)
    assert_no_nan(out)
    b = out[(out["experiment_id"] == "exp-2") & (out["variant"] == "b")].iloc[0]
    assert b["success_rate_diff"] == pytest.approx(0.0)
    assert b["success_rate_p_value"] is None and b["latency_p_value"] is None
    assert "every run succeeded" in b["note"] and "at least 2 latencies" in b["note"]
    b3 = out[(out["experiment_id"] == "exp-3") & (out["variant"] == "b")].iloc[0]
    assert b3["success_rate_p_value"] == pytest.approx(two_proportion_z_test(0, 2, 1, 2))
    assert b3["latency_p_value"] is None and "no latency variance" in b3["note"]
    assert b3["success_rate_diff"] == pytest.approx(-50.0)


def test_sample_ratio_mismatch_against_equal_and_configured_shares() -> None:
    """A 50/50 experiment that logged 600 control and 400 treatment runs is broken; the same split is
    fine for a 60/40 experiment. Chi-square p-values computed here by hand."""
    latency = np.full(600, 100.0)
    frame = pd.DataFrame(
        runs("t1", "exp", "control", 300, 600, latency, 0.01)
        + runs("t1", "exp", "treatment", 200, 400, latency, 0.01)
    )
    equal = experiment_results(frame, created_at=CREATED).set_index("variant").loc["treatment"]
    chi2 = (600 - 500) ** 2 / 500 + (400 - 500) ** 2 / 500  # 40 on 1 degree of freedom
    assert equal["srm_p_value"] == pytest.approx(stats.chi2.sf(chi2, 1))
    assert equal["sample_ratio_mismatch"] is True
    assert "sample-ratio mismatch" in equal["note"]
    configured = (
        experiment_results(frame, shares={"exp": {"control": 60, "treatment": 40}}, created_at=CREATED)
        .set_index("variant")
        .loc["treatment"]
    )
    assert configured["srm_p_value"] == pytest.approx(1.0)
    assert configured["sample_ratio_mismatch"] is False

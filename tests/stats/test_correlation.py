"""Tests of prodlens.stats.correlation against values computed directly with numpy/scipy."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from prodlens.stats import benjamini_hochberg, correlations, daily_series
from prodlens.stats.correlation import CORRELATION_COLUMNS, SERIES_COLUMNS, X_METRICS, Y_METRICS

START = date(2024, 1, 1)
AS_OF = date(2024, 4, 1)
CREATED = datetime(2024, 4, 1, 6, 0)


def assert_no_nan(frame: pd.DataFrame) -> None:
    for value in frame.to_numpy().ravel():
        assert value is not pd.NA and value is not pd.NaT
        if isinstance(value, float | np.floating):
            assert math.isfinite(value), frame


def day(i: int) -> date:
    return START + timedelta(days=i)


def series_frame(n: int, tenant: str = "t1", repo: str = "acme/api", **columns: object) -> pd.DataFrame:
    """A daily series frame of n days; metrics not given are independent noise (fixed seed)."""
    rng = np.random.default_rng(7)
    data: dict[str, object] = {
        "tenant_id": tenant,
        "repo_slug": repo,
        "event_date": [day(i) for i in range(n)],
        "requests": rng.poisson(20, n),
        "active_developers": rng.integers(1, 6, n),
        "total_tokens": rng.poisson(5000, n),
        "cost_usd": rng.gamma(2.0, 1.0, n),
        "commits": rng.poisson(6, n),
        "merged_prs": rng.poisson(2, n),
        "median_merge_hours": rng.gamma(3.0, 4.0, n),
    }
    data.update(columns)
    return pd.DataFrame(data)


def run(series: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    out = correlations(series, as_of=AS_OF, created_at=CREATED, **kwargs)  # type: ignore[arg-type]
    assert list(out.columns) == CORRELATION_COLUMNS
    assert_no_nan(out)
    return out


def pick(out: pd.DataFrame, x: str, y: str, lag: int | None = None) -> pd.DataFrame:
    rows = out[(out["x_metric"] == x) & (out["y_metric"] == y)]
    return rows if lag is None else rows[rows["lag_days"] == lag]


def reference_residuals(values: np.ndarray, days: list[date]) -> np.ndarray:
    """OLS residuals on an intercept, the day index and Tue..Sun dummies, built here with pandas."""
    frame = pd.DataFrame({"t": np.arange(len(days), dtype=float)})
    dummies = pd.get_dummies(pd.Categorical([d.isoweekday() for d in days], categories=range(1, 8)))
    frame = pd.concat([frame, dummies.drop(columns=[1]).astype(float)], axis=1)
    frame.insert(0, "one", 1.0)
    known = ~np.isnan(values)
    beta = np.linalg.pinv(frame.to_numpy()[known]) @ values[known]
    out = np.full(len(values), np.nan)
    out[known] = values[known] - frame.to_numpy()[known] @ beta
    return out


def reference_n_eff(x: np.ndarray, y: np.ndarray) -> float:
    """Pyper & Peterman's effective n, written out term by term."""
    n = len(x)

    def rho(z: np.ndarray, j: int) -> float:
        m = sum(z) / n
        return sum((z[t] - m) * (z[t + j] - m) for t in range(n - j)) / sum((v - m) ** 2 for v in z)

    inverse = 1 / n + (2 / n) * sum(rho(x, j) * rho(y, j) for j in range(1, n // 5 + 1))
    value = n if inverse <= 0 else 1 / inverse
    return min(max(value, 3), n)


def reference_spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman as the issue defines it: residuals rounded to 1e-9 × their largest |value|, average ranks."""

    def ranks(z: np.ndarray) -> np.ndarray:
        q = 1e-9 * np.abs(z).max()
        return stats.rankdata(np.round(z / q) * q, method="average")

    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def reference_p(r: float, n_eff: float) -> float:
    t = abs(r) * math.sqrt((n_eff - 2) / (1 - r * r))
    return 2 * stats.t.sf(t, n_eff - 2)


def test_planted_lag_is_the_strongest_detrended_correlation() -> None:
    rng = np.random.default_rng(42)
    n, lag = 60, 3
    walk = np.maximum(20 + np.cumsum(rng.integers(-3, 4, n)), 1)  # random-walk request counts
    commits = rng.integers(0, 5, n)
    commits[lag:] = 2 * walk[: n - lag] + rng.integers(-1, 2, n - lag)

    requests = pd.DataFrame(
        [
            {
                "tenant_id": "t1",
                "repo_slug": "acme/api",
                "event_date": day(i),
                "developer_id": f"dev{rng.integers(0, 8)}",
                "total_tokens": int(rng.integers(100, 2000)),
                "cost_usd": float(rng.uniform(0.001, 0.05)),
            }
            for i in range(n)
            for _ in range(walk[i])
        ]
    )
    github = pd.DataFrame(
        {
            "repo_slug": "acme/api",
            "event_date": [day(i) for i in range(n)],
            "commit_count": commits,
            "merged_pr_count": rng.integers(0, 3, n),
            "median_merge_hours": rng.gamma(3.0, 4.0, n),
        }
    )
    series = daily_series(requests, github)
    assert list(series.columns) == SERIES_COLUMNS
    assert series["requests"].tolist() == walk.tolist()
    assert series["commits"].tolist() == commits.tolist()

    out = run(series)
    assert len(out) == len(X_METRICS) * len(Y_METRICS) * 8
    rc = pick(out, "requests", "commits")
    strongest = rc.loc[rc["pearson_r"].astype(float).abs().idxmax()]
    assert strongest["lag_days"] == lag
    assert strongest["significant"] is True
    assert strongest["sample_size"] == n - lag

    days = [day(i) for i in range(n)]
    rx = reference_residuals(walk.astype(float), days)
    ry = reference_residuals(commits.astype(float), days)
    px, py = rx[: n - lag], ry[lag:]
    r = stats.pearsonr(px, py).statistic
    assert strongest["pearson_r"] == pytest.approx(r, rel=1e-9)
    assert strongest["effective_n"] == pytest.approx(reference_n_eff(px, py), rel=1e-9)
    assert strongest["pearson_p"] == pytest.approx(reference_p(r, reference_n_eff(px, py)), rel=1e-6)
    assert strongest["spearman_r"] == pytest.approx(reference_spearman(px, py), rel=1e-9)
    raw = stats.pearsonr(walk[: n - lag], commits[lag:])
    assert strongest["raw_pearson_r"] == pytest.approx(raw.statistic)
    assert strongest["raw_pearson_p"] == pytest.approx(raw.pvalue)
    assert strongest["raw_sample_size"] == n - lag

    # The random walk makes raw levels correlate at every lag; the residuals do not.
    off_lag = pick(out, "requests", "commits", 0).iloc[0]
    assert off_lag["raw_pearson_r"] > 0.6
    assert abs(off_lag["pearson_r"]) < 0.5

    # BH family = all non-null tests of this tenant and repo.
    valid = out[out["pearson_p"].notna()]
    adjusted = stats.false_discovery_control(valid["pearson_p"].astype(float).to_numpy(), method="bh")
    np.testing.assert_allclose(valid["pearson_p_adjusted"].astype(float).to_numpy(), adjusted)
    expected_significant = [q is not None and q < 0.05 for q in out["pearson_p_adjusted"]]
    assert out["significant"].tolist() == expected_significant


def test_pure_noise_is_not_significant_after_bh() -> None:
    out = run(series_frame(45))
    assert out["pearson_r"].notna().sum() > 0
    assert not out["significant"].any()
    valid = out[out["pearson_p"].notna()]
    assert (valid["pearson_p_adjusted"].astype(float) >= valid["pearson_p"].astype(float)).all()
    assert (valid["spearman_p_adjusted"].astype(float) >= valid["spearman_p"].astype(float)).all()


@pytest.mark.filterwarnings("error")
def test_constant_series_gives_null_and_note() -> None:
    n = 30
    out = run(series_frame(n, commits=np.full(n, 5)), max_lag_days=2)
    rows = pick(out, "requests", "commits")
    assert rows["pearson_r"].isna().all() and rows["spearman_r"].isna().all()
    assert rows["raw_pearson_r"].isna().all() and rows["pearson_p_adjusted"].isna().all()
    assert (rows["note"] == "constant series: commits").all()
    assert not rows["significant"].any()
    assert pick(out, "requests", "commits", 2).iloc[0]["sample_size"] == n - 2
    # Other pairs of the family are unaffected.
    assert pick(out, "requests", "merged_prs")["pearson_r"].notna().all()


@pytest.mark.filterwarnings("error")
def test_series_that_is_only_trend_and_weekday_is_constant_after_detrending() -> None:
    n = 30
    weekday_effect = np.array([0, 2, 2, 2, 2, -5, -6])  # Monday .. Sunday
    trend = 10 + 0.5 * np.arange(n) + weekday_effect[[day(i).weekday() for i in range(n)]]
    out = run(series_frame(n, requests=trend), max_lag_days=2)
    rows = pick(out, "requests", "commits")
    assert rows["pearson_r"].isna().all()
    assert rows["raw_pearson_r"].notna().all()  # the raw levels are not constant
    assert (rows["note"] == "constant series: requests").all()


@pytest.mark.filterwarnings("error")
def test_too_short_series_gives_null_and_note() -> None:
    out = run(series_frame(10), min_sample_size=14)
    assert out["pearson_r"].isna().all() and out["raw_pearson_r"].isna().all()
    assert out["pearson_p_adjusted"].isna().all()
    assert not out["significant"].any()
    lag0 = pick(out, "requests", "commits", 0).iloc[0]
    assert lag0["sample_size"] == 10
    assert lag0["note"] == "too few days (10 < 14)"
    assert pick(out, "cost_usd", "merged_prs", 7).iloc[0]["note"] == "too few days (3 < 14)"


def test_zero_activity_days_count() -> None:
    rng = np.random.default_rng(3)
    n = 40
    per_day = rng.poisson(4, n)
    per_day[[3, 4, 10, 17, 18, 19, 25, 33]] = 0  # days without any AI request
    requests = pd.DataFrame(
        [
            {
                "tenant_id": "t1",
                "repo_slug": "acme/api",
                "event_date": day(i),
                "developer_id": None if k == 0 else f"dev{k % 3}",
                "total_tokens": 100,
                "cost_usd": 0.01,
            }
            for i in range(n)
            for k in range(per_day[i])
        ]
    )
    commits = rng.poisson(3, n) + per_day  # commits follow requests, zero days included
    github = pd.DataFrame(
        {
            "repo_slug": "acme/api",
            "event_date": [day(i) for i in range(n)],
            "commit_count": commits,
            "merged_pr_count": rng.poisson(1, n),
            "median_merge_hours": None,
        }
    )
    series = daily_series(requests, github)
    assert_no_nan(series)
    assert series["event_date"].tolist() == [day(i) for i in range(n)]
    zero_days = series[series["requests"] == 0]
    assert zero_days["event_date"].tolist() == [day(i) for i in (3, 4, 10, 17, 18, 19, 25, 33)]
    assert (zero_days[["active_developers", "total_tokens", "cost_usd"]] == 0).all().all()
    expected_devs = [len({f"dev{k % 3}" for k in range(1, c)}) for c in per_day]
    assert series["active_developers"].tolist() == expected_devs

    out = run(series, max_lag_days=0)
    row = pick(out, "requests", "commits", 0).iloc[0]
    assert row["sample_size"] == n
    days = [day(i) for i in range(n)]
    full = stats.pearsonr(
        reference_residuals(per_day.astype(float), days), reference_residuals(commits.astype(float), days)
    ).statistic
    assert row["pearson_r"] == pytest.approx(full, rel=1e-9)
    raw_full = stats.pearsonr(per_day, commits).statistic
    assert row["raw_pearson_r"] == pytest.approx(raw_full)

    # Dropping the zero days changes the answer: they are observations, not gaps.
    keep = per_day > 0
    raw_dropped = stats.pearsonr(per_day[keep], commits[keep]).statistic
    assert abs(raw_dropped - raw_full) > 0.01
    dropped = run(series[series["requests"] > 0], max_lag_days=0)
    dropped_row = pick(dropped, "requests", "commits", 0).iloc[0]
    assert dropped_row["sample_size"] < n
    gaps = np.where(keep, per_day, np.nan).astype(float)
    gap_commits = np.where(keep, commits, np.nan).astype(float)
    rx, ry = reference_residuals(gaps, days), reference_residuals(gap_commits, days)
    expected_dropped = stats.pearsonr(rx[keep], ry[keep]).statistic
    assert dropped_row["pearson_r"] == pytest.approx(expected_dropped, rel=1e-9)
    assert abs(dropped_row["pearson_r"] - row["pearson_r"]) > 1e-3
    # median_merge_hours is never zero-filled: all null here, so no test.
    assert series["median_merge_hours"].isna().all()
    assert pick(out, "requests", "median_merge_hours")["note"].str.startswith("too few days").all()


def test_daily_series_spine_window_and_shared_github() -> None:
    requests = pd.DataFrame(
        {
            "tenant_id": ["t1", "t1", "t2", "t1", None],
            "repo_slug": ["acme/api", "acme/api", "acme/api", "acme/web", "acme/api"],
            "event_date": [day(5), day(8), day(7), day(20), day(6)],
            "developer_id": ["a", None, "b", "a", "c"],
            "total_tokens": [10, 20, 30, 40, 50],
            "cost_usd": [0.1, 0.2, 0.3, 0.4, 0.5],
        }
    )
    github = pd.DataFrame(
        {
            "repo_slug": ["acme/api", "acme/api", "acme/api"],
            "event_date": [day(2), day(6), day(12)],
            "commit_count": [1, 2, 3],
            "merged_pr_count": [0, 1, 1],
            "median_merge_hours": [None, 5.5, 7.0],
        }
    )
    series = daily_series(requests, github, window_start=day(3), window_end=day(10))
    assert_no_nan(series)
    t1 = series[(series["tenant_id"] == "t1") & (series["repo_slug"] == "acme/api")]
    # Spine: first to last activity inside the window (day 2 and day 12 of GitHub are outside).
    assert t1["event_date"].tolist() == [day(i) for i in range(5, 9)]
    assert t1["requests"].tolist() == [1, 0, 0, 1]
    assert t1["active_developers"].tolist() == [1, 0, 0, 0]
    assert t1["commits"].tolist() == [0, 2, 0, 0]
    assert t1["median_merge_hours"].tolist() == [None, 5.5, None, None]
    # The same repository's GitHub data serves t2, whose spine starts at the GitHub day 6.
    t2 = series[series["tenant_id"] == "t2"]
    assert t2["event_date"].tolist() == [day(6), day(7)]
    assert t2["commits"].tolist() == [2, 0]
    # acme/web has no requests in the window; the null tenant is ignored.
    assert set(series["repo_slug"]) == {"acme/api"}
    assert set(series["tenant_id"]) == {"t1", "t2"}

    everything = daily_series(requests, github.iloc[0:0])
    web = everything[everything["repo_slug"] == "acme/web"]
    assert web["commits"].tolist() == [0] and web["median_merge_hours"].tolist() == [None]


def test_daily_series_of_summed_requests_equals_that_of_single_requests() -> None:
    """The dbt model hands over requests summed per tenant, repository, day and developer, with their
    number in request_count: the series is the one of the single requests."""
    single = pd.DataFrame(
        {
            "tenant_id": ["t1"] * 5 + ["t2"],
            "repo_slug": ["acme/api"] * 6,
            "event_date": [day(1), day(1), day(1), day(3), day(3), day(1)],
            "developer_id": ["a", "a", "b", None, None, "a"],
            "total_tokens": [10, 20, None, 40, 50, 60],
            "cost_usd": [0.1, 0.2, 0.3, None, 0.5, 0.6],
        }
    )
    summed = pd.DataFrame(
        {
            "tenant_id": ["t1", "t1", "t1", "t2"],
            "repo_slug": ["acme/api"] * 4,
            "event_date": [day(1), day(1), day(3), day(1)],
            "developer_id": ["a", "b", None, "a"],
            "request_count": [2, 1, 2, 1],
            "total_tokens": [30, None, 90, 60],
            "cost_usd": [0.1 + 0.2, 0.3, 0.5, 0.6],
        }
    )
    github = pd.DataFrame(
        columns=["repo_slug", "event_date", "commit_count", "merged_pr_count", "median_merge_hours"]
    )
    expected = daily_series(single, github)
    got = daily_series(summed, github)
    # equal, but for the order in which the day's costs were added
    assert got.drop(columns="cost_usd").to_dict("records") == expected.drop(columns="cost_usd").to_dict(
        "records"
    )
    assert got["cost_usd"].tolist() == pytest.approx(expected["cost_usd"].tolist(), rel=1e-12)
    t1 = got[got["tenant_id"] == "t1"]
    assert t1["requests"].tolist() == [3, 0, 2]
    assert t1["active_developers"].tolist() == [2, 0, 0]
    assert t1["total_tokens"].tolist() == [30, 0, 90]


def test_detrend_false_reports_raw_values() -> None:
    out = run(series_frame(30), detrend=False, max_lag_days=2)
    assert not out["detrended"].any()
    for column in ("pearson_r", "pearson_p", "spearman_r", "spearman_p"):
        assert out[column].tolist() == out[f"raw_{column}"].tolist()
    row = pick(out, "total_tokens", "merged_prs", 2).iloc[0]
    frame = series_frame(30)
    expected = stats.spearmanr(frame["total_tokens"][:28], frame["merged_prs"][2:])
    assert row["spearman_r"] == pytest.approx(expected.statistic)
    assert row["sample_size"] == 28
    assert row["correlation_date"] == AS_OF and row["created_at"] == CREATED
    assert row["window_start"] == day(0) and row["window_end"] == day(29)


def test_families_are_adjusted_separately() -> None:
    both = pd.concat([series_frame(30, tenant="t1"), series_frame(30, tenant="t2", repo="acme/web")])
    out = run(both, max_lag_days=1)
    assert len(out) == 2 * 4 * 3 * 2
    alone = run(series_frame(30), max_lag_days=1)
    for _, family in out.groupby(["tenant_id", "repo_slug"]):
        assert family["pearson_p_adjusted"].tolist() == pytest.approx(alone["pearson_p_adjusted"].tolist())


def test_empty_input() -> None:
    empty_requests = pd.DataFrame(
        columns=["tenant_id", "repo_slug", "event_date", "developer_id", "total_tokens", "cost_usd"]
    )
    series = daily_series(empty_requests, pd.DataFrame())
    assert list(series.columns) == SERIES_COLUMNS and series.empty
    assert run(series).empty


def test_benjamini_hochberg_matches_scipy() -> None:
    p = [0.01, None, 0.04, 0.03, 0.5, 0.002, float("nan"), 0.04]
    adjusted = benjamini_hochberg(p)
    present = [v for v in p if v is not None and not math.isnan(v)]
    expected = iter(stats.false_discovery_control(present, method="bh"))
    for value, q in zip(p, adjusted, strict=True):
        if value is None or math.isnan(value):
            assert q is None
        else:
            assert q == pytest.approx(next(expected))
    # Hand check of the step-up rule: sorted p 0.002, 0.01, 0.03, 0.04, 0.04, 0.5 (m = 6).
    assert adjusted[0] == pytest.approx(min(0.01 * 6 / 2, 0.03 * 6 / 3, 0.04 * 6 / 5))
    assert benjamini_hochberg([None, None]) == [None, None]
    assert benjamini_hochberg([]) == []


def test_correlation_date_is_each_tenants_own_last_day() -> None:
    both = pd.concat([series_frame(30, tenant="t1"), series_frame(20, tenant="t2", repo="acme/web")])
    out = correlations(both, created_at=CREATED)
    dates = out.groupby("tenant_id")["correlation_date"].unique().to_dict()
    assert {k: list(v) for k, v in dates.items()} == {"t1": [day(29)], "t2": [day(19)]}
    assert set(correlations(both, as_of=AS_OF, created_at=CREATED)["correlation_date"]) == {AS_OF}


def test_effective_n_follows_pyper_peterman() -> None:
    from prodlens.stats.correlation import corrected_p, effective_n

    rng = np.random.default_rng(11)
    ar = np.zeros(40)
    for t in range(1, 40):
        ar[t] = 0.8 * ar[t - 1] + rng.normal()
    ar2 = np.zeros(40)
    for t in range(1, 40):
        ar2[t] = 0.8 * ar2[t - 1] + rng.normal()
    n_eff = effective_n(ar, ar2)
    assert n_eff == pytest.approx(reference_n_eff(ar, ar2), rel=1e-12)
    assert 3 <= n_eff < 40  # two persistent series carry fewer independent days than 40
    # an alternating series against a persistent one: Σ ρx(j)·ρy(j) < 0 puts n_eff above n: clipped to n
    alternating = np.array([1.0, -1.0] * 20)
    assert reference_n_eff(alternating, ar) == 40
    assert effective_n(alternating, ar) == 40
    # the p-value uses n_eff − 2 degrees of freedom, not rounded
    assert corrected_p(0.4, 17.3) == pytest.approx(reference_p(0.4, 17.3), rel=1e-12)
    assert corrected_p(0.4, 17.3) != pytest.approx(reference_p(0.4, 17.0), rel=1e-6)


def test_a_shared_weekly_cycle_is_not_an_association() -> None:
    """Independent AI use and commits that both dip at weekends: their levels correlate at lag 0 and 7,
    the weekday-and-trend residuals do not."""
    rng = np.random.default_rng(5)
    n = 84
    weekend = np.array([day(i).weekday() >= 5 for i in range(n)])
    requests = np.where(weekend, 6, 20) + rng.poisson(3, n)
    commits = np.where(weekend, 1, 8) + rng.poisson(2, n)
    out = run(series_frame(n, requests=requests, commits=commits))
    rows = pick(out, "requests", "commits")
    assert pick(out, "requests", "commits", 0).iloc[0]["raw_pearson_r"] > 0.7
    assert pick(out, "requests", "commits", 7).iloc[0]["raw_pearson_r"] > 0.7
    assert not rows["significant"].any()
    assert rows["pearson_r"].astype(float).abs().max() < 0.35


def _padded_github(repo: str, active_days: range, sync_day: int) -> pd.DataFrame:
    """GitHub days as daily_github_metrics gives them: every day up to the sync date, zero when idle."""
    days = range(active_days.start, sync_day + 1)
    return pd.DataFrame(
        {
            "repo_slug": repo,
            "event_date": [day(i) for i in days],
            "commit_count": [3 if i in active_days else 0 for i in days],
            "merged_pr_count": [1 if i in active_days else 0 for i in days],
            "median_merge_hours": [4.0 if i in active_days else None for i in days],
        }
    )


def _requests(repo: str, active_days: range) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "tenant_id": "t1",
                "repo_slug": repo,
                "event_date": day(i),
                "developer_id": "a",
                "total_tokens": 100 + i,
                "cost_usd": 0.01,
            }
            for i in active_days
        ]
    )


def test_a_stale_repository_is_not_padded_to_the_sync_date() -> None:
    """Activity ends 20 days before the sync date: the spine ends with it, no zero days are appended."""
    active = range(0, 40)
    series = daily_series(_requests("acme/old", active), _padded_github("acme/old", active, sync_day=59))
    assert series["event_date"].tolist() == [day(i) for i in active]
    out = run(series, max_lag_days=0)
    assert (out["window_end"] == day(39)).all()
    assert pick(out, "requests", "commits", 0).iloc[0]["sample_size"] == 40


def test_a_repository_with_ten_active_days_has_too_few_days() -> None:
    active = range(0, 10)
    series = daily_series(_requests("acme/new", active), _padded_github("acme/new", active, sync_day=30))
    assert len(series) == 10
    out = run(series)
    assert out["pearson_r"].isna().all() and out["raw_pearson_r"].isna().all()
    assert out["note"].str.startswith("too few days").all()
    assert not out["significant"].any()

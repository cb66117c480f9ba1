"""Calibration of the correlation statistics (prodlens.stats.correlations, the function behind
marts.correlation_cache) on simulated data with a known truth.

Each simulated family is one tenant and repository: the daily series of correlation_series (4 AI-use
series, 3 outcome series) over 60 or 90 days. Every series has a weekly cycle (weekends at about 30% of
weekday volume), a linear trend and AR(1) noise with phi = 0.5, the AI series one process, the outcomes
another.

* Noise families: AI use and outcomes independent. The family-wise false-alarm rate is the share of
  families with any significant test (Benjamini–Hochberg, FDR 0.05, over all 96 tests).
* Planted families: the outcomes' noise follows the AI noise two days later with correlation 0.5. Power
  is the share where requests -> commits at lag 2 is significant; the echo rate the share where lag 1 or
  lag 3 is significant too.

Both methods are measured: the default (weekday-and-trend residuals, effective-n p-values) and
prewhitening (var correlation_prewhiten). Usage:

    python bench/stats_calibration.py [--families 1000] [--seed 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prodlens.stats import correlations

START = date(2026, 1, 5)  # a Monday
PHI = 0.5
PLANTED_LAG = 2
PLANTED_R = 0.5
CREATED = datetime(2026, 12, 1, tzinfo=UTC)


def ar1(rng: np.random.Generator, n: int, phi: float = PHI) -> np.ndarray:
    """A stationary AR(1) series with unit variance."""
    e = np.empty(n)
    e[0] = rng.normal()
    scale = math.sqrt(1 - phi * phi)
    for t in range(1, n):
        e[t] = phi * e[t - 1] + scale * rng.normal()
    return e


def family(rng: np.random.Generator, n: int, repo: str, planted: bool) -> pd.DataFrame:
    """One tenant and repository's daily series."""
    days = [START + timedelta(days=i) for i in range(n)]
    weekly = np.array([0.3 if d.weekday() >= 5 else 1.0 for d in days])
    t = np.arange(n)
    ai_noise = ar1(rng, n)
    out_noise = ar1(rng, n)
    if planted:
        lagged = np.concatenate([ar1(rng, PLANTED_LAG), ai_noise[:-PLANTED_LAG]])
        out_noise = PLANTED_R * lagged + math.sqrt(1 - PLANTED_R**2) * out_noise
    requests = np.maximum(np.round(weekly * (60 + 0.3 * t) + 8 * ai_noise), 0)
    commits = np.maximum(np.round(weekly * (12 + 0.05 * t) + 3 * out_noise), 0)
    merged = np.maximum(np.round(commits / 3 + rng.normal(0, 0.5, n)), 0)
    hours = np.where(merged > 0, rng.gamma(3.0, 6.0, n), np.nan)
    return pd.DataFrame(
        {
            "tenant_id": "t",
            "repo_slug": repo,
            "event_date": days,
            "requests": requests,
            "active_developers": np.maximum(np.round(requests / 10 + rng.normal(0, 0.7, n)), 0),
            "total_tokens": np.maximum(requests * 2500 + rng.normal(0, 4000, n), 0),
            "cost_usd": np.maximum(requests * 0.01 + rng.normal(0, 0.05, n), 0),
            "commits": commits,
            "merged_prs": merged,
            "median_merge_hours": hours,
        }
    )


@dataclass(frozen=True)
class Job:
    n_days: int
    planted: bool
    prewhiten: bool
    families: int
    seed: int


def run(job: Job) -> tuple[Job, float, float, float]:
    """(job, share of families with any significant test, power at the planted lag, echo rate)."""
    rng = np.random.default_rng([job.seed, job.n_days, int(job.planted)])
    series = pd.concat(
        [family(rng, job.n_days, f"r/{i}", job.planted) for i in range(job.families)], ignore_index=True
    )
    out = correlations(series, prewhiten=job.prewhiten, created_at=CREATED)
    significant = out[out["significant"].astype(bool)]
    any_alarm = significant["repo_slug"].nunique() / job.families
    rc = significant[(significant["x_metric"] == "requests") & (significant["y_metric"] == "commits")]
    power = rc[rc["lag_days"] == PLANTED_LAG]["repo_slug"].nunique() / job.families
    echo = rc[rc["lag_days"].isin([PLANTED_LAG - 1, PLANTED_LAG + 1])]["repo_slug"].nunique() / job.families
    return job, any_alarm, power, echo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=1000, help="families per cell (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = [
        Job(n, planted, prewhiten, args.families, args.seed)
        for prewhiten in (False, True)
        for n in (60, 90)
        for planted in (False, True)
    ]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run, jobs))
    mc = 1.96 * math.sqrt(0.05 * 0.95 / args.families)
    print(f"prodlens.stats.correlations calibration: {args.families} families per cell, seed {args.seed}")
    print(f"(weekly cycle, trend, AR(1) phi={PHI}; planted: lag {PLANTED_LAG}, r={PLANTED_R}; BH FDR 0.05)")
    print(f"{'method':<26}{'days':>5}{'false alarms':>14}{'power':>8}{'echo':>8}")
    for prewhiten in (False, True):
        for n in (60, 90):
            noise = next(r for r in results if r[0] == Job(n, False, prewhiten, args.families, args.seed))
            planted = next(r for r in results if r[0] == Job(n, True, prewhiten, args.families, args.seed))
            method = "residuals + prewhitening" if prewhiten else "residuals (default)"
            print(f"{method:<26}{n:>5}{noise[1]:>14.1%}{planted[2]:>8.1%}{planted[3]:>8.1%}")
    print(f"targets: false alarms <= 5% (+{mc:.1%} Monte-Carlo error), power >= 80% at 90 days")
    print(f"wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

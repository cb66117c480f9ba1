"""Statistics behind the ProdLens marts (pandas / numpy / scipy, no database).

* correlation: daily series per tenant and repository, lagged raw and detrended correlations with
  Benjamini–Hochberg adjustment (marts.correlation_cache).
* effects: Hedges' g, token efficiency, Wilson acceptance intervals, session growth (marts.effect_sizes).
* experiments: A/B variant results against control, z-test and Welch t-test (marts.experiment_results).

Every returned frame is object-typed with Python None for missing values, never NaN or inf.
"""

from prodlens.dates import config_day
from prodlens.stats.correlation import benjamini_hochberg, correlations, daily_series
from prodlens.stats.effects import effect_sizes, hedges_g, interpret_d, wilson_interval
from prodlens.stats.experiments import experiment_results, two_proportion_z_test

__all__ = [
    "benjamini_hochberg",
    "config_day",
    "correlations",
    "daily_series",
    "effect_sizes",
    "experiment_results",
    "hedges_g",
    "interpret_d",
    "two_proportion_z_test",
    "wilson_interval",
]

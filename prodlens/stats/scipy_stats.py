"""scipy.stats on first use, and the one normal quantile the marts need without it.

Importing scipy.stats costs ~0.6 s of one core (more while dbt's other threads compete for the
interpreter). A scheduled run whose Python models have nothing to test (no experiments, no GitHub series
to correlate) should not pay it: the statistics call `scipy_stats()` where they compute, not at import.
dbt runs Python models in threads, so the first import is made under one lock: two models never import
scipy's submodules at the same time (Python's per-module import locks can hand a thread a module another
thread is still initialising).
"""

from __future__ import annotations

import threading
from types import ModuleType

#: The two-sided 95% normal quantile, scipy.stats.norm.ppf(0.975) to the last bit (tests/stats check it).
Z_95 = 1.959963984540054

_import_lock = threading.Lock()


def scipy_stats() -> ModuleType:
    """The scipy.stats module, imported on the first call."""
    with _import_lock:
        from scipy import stats
    return stats

"""prodlens.stats loads scipy.stats only where it computes, and its constant quantile is scipy's."""

from __future__ import annotations

import subprocess
import sys

from scipy import stats

from prodlens.stats.scipy_stats import Z_95, scipy_stats


def test_z_95_is_scipys_normal_quantile_to_the_last_bit() -> None:
    assert float(stats.norm.ppf(0.975)) == Z_95


def test_scipy_stats_is_the_scipy_module() -> None:
    assert scipy_stats() is stats


def test_importing_the_statistics_and_the_effect_sizes_leave_scipy_unloaded() -> None:
    # effect sizes need only the constant quantile; a scheduled run with no experiments and no GitHub
    # series never loads scipy.stats (about 0.6 s of a core)
    code = (
        "import sys\n"
        "from datetime import date, datetime\n"
        "import pandas as pd\n"
        "from prodlens.stats import effect_sizes\n"
        "frame = pd.DataFrame({'tenant_id': ['t', 't'], 'event_date': [date(2026, 1, 1)] * 2,\n"
        "    'model': ['m', 'm'], 'accepted': [True, False], 'latency_ms': [1.0, 2.0],\n"
        "    'total_tokens': [10, 20], 'request_count': [1, 1]})\n"
        "result = effect_sizes(frame, as_of=date(2026, 1, 1), created_at=datetime(2026, 1, 1))\n"
        "print(len(result), 'scipy.stats' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    rows, loaded = out.split()
    assert int(rows) > 0
    assert loaded == "False"

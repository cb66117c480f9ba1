"""Every analysis in analyses/ compiles and runs against the sample warehouse."""

from __future__ import annotations

import os
import subprocess
import sys

from prodlens.dbt_runner import dbt_env
from tests.analytics.conftest import ANALYTICS_MARTS, DBT_VARS, SampleBuild, connect
from tests.conftest import REPO_ROOT

COMPILE = (
    "import sys; from prodlens.dbt_runner import run_dbt; from prodlens.home import Home; "
    "sys.exit(0 if run_dbt(Home.from_env(), sys.argv[1:], quiet=True) else 1)"
)


def test_every_analysis_compiles_and_runs(sample_build: SampleBuild) -> None:
    home = sample_build.home
    proc = subprocess.run(
        [sys.executable, "-c", COMPILE, "compile", "--select", "resource_type:analysis", "--vars", DBT_VARS],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **dbt_env(home)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sources = sorted(p.stem for p in (REPO_ROOT / "analyses").glob("*.sql"))
    compiled_dir = home.dbt_target / "compiled" / "prodlens" / "analyses"
    compiled = sorted(p.stem for p in compiled_dir.glob("*.sql"))
    assert sources and compiled == sources
    con = connect(home.warehouse)
    results = {}
    for name in compiled:
        cursor = con.execute((compiled_dir / f"{name}.sql").read_text())
        results[name] = cursor.fetchall()
    # the ProdLens data model's examples, adapted to the marts
    assert results["sessions_by_date_range_per_developer"]
    assert results["high_cost_sessions"]
    assert "ai_usage_by_merged_pull_request" in results  # rows only with GitHub data
    # one dashboard query per analytics mart
    for mart in ANALYTICS_MARTS:
        assert results[f"dashboard_{mart}"], f"dashboard_{mart} returned no rows on the sample data"

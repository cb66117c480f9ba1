"""A scheduled run's data tests read the rows it added (macros/tests/get_where_subquery.sql, NewRows): a
duplicate key among new rows still fails them; one among rows before the run (of a load up to the last
build's complete one, or written before the run began) is left to the runs that tested those rows, and
`dbt build` without a scope still finds it. Rows are planted in a copy of the demo's
working file and the models' tests run on it through `run_dbt`, as `prodlens run` runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prodlens import build_state
from prodlens.dbt_runner import NewRows
from prodlens.home import Home
from tests.conftest import REPO_ROOT, tampered_copy
from tests.report.demo_run import DemoRun

# the models' data tests in a dbt process of their own; prints the nodes' statuses as JSON
RUN_TESTS = (
    "import json, sys\n"
    "from prodlens.dbt_runner import NewRows, run_dbt\n"
    "from prodlens.home import Home\n"
    "scope = json.loads(sys.argv[1])\n"
    "new_rows = None if scope is None else NewRows(**scope)\n"
    "run = run_dbt(Home.from_env(), ['test', '--select', *sys.argv[2:]], quiet=True, new_rows=new_rows)\n"
    "print(json.dumps(run.statuses))\n"
)
PLANTED = "f" * 40  # the planted trace
MODELS = ("base_litellm__requests", "stg_litellm__requests", "sessions")
# each model's key test: the raw view's key includes the load, staging's and sessions' is the trace
KEY_TESTS = {
    "base_litellm__requests": "test.prodlens.unique_combination_of_columns_base_litellm__requests_",
    "stg_litellm__requests": "test.prodlens.unique_stg_litellm__requests_trace_hash",
    "sessions": "test.prodlens.unique_sessions_trace_hash",
}


def key_tests(home: Home, new_rows: NewRows | None) -> dict[str, str]:
    """model -> the status of its key test, run in the scope of `new_rows` (None: every row)."""
    scope = None if new_rows is None else {"loads_after": new_rows.loads_after}
    proc = subprocess.run(
        [sys.executable, "-c", RUN_TESTS, json.dumps(scope), *MODELS],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PRODLENS_HOME": str(home.root), "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
        check=True,
    )
    statuses: dict[str, str] = json.loads(proc.stdout.splitlines()[-1])
    found = {
        model: [status for node, status in statuses.items() if node.startswith(prefix)]
        for model, prefix in KEY_TESTS.items()
    }
    assert all(len(found[m]) == 1 for m in MODELS), (found, sorted(statuses))
    return {model: found[model][0] for model in MODELS}


def shifted(load_id: str, seconds: int) -> str:
    """A dlt load id (seconds since the epoch, as text) `seconds` later."""
    return f"{float(load_id) + seconds:.6f}"


def newest_load(home: Home) -> str:
    """The load up to which the demo's build read every load complete: the boundary `prodlens run` passes."""
    through = build_state.raw_loads(home).complete_through
    assert through is not None
    return through


def plant_duplicates(demo: DemoRun, folder: Path, load_id: str, written_at: str) -> Home:
    """A copy of the demo's file with one duplicate key in each model: two rows of a new trace, of load
    `load_id` in the raw table and staging, and written at `written_at` in sessions. (A new row that repeats
    an older row's key cannot come out of staging or sessions: their delete+insert replaces the older row.)"""

    def twice(table: str, replace: str) -> str:
        return (
            f"insert into {table} select one.* replace ('{PLANTED}' as trace_hash, {replace}) "
            f"from (select * from {table} order by trace_hash limit 1) as one, range(2)"
        )

    return tampered_copy(
        demo.home,
        folder,
        [
            twice("raw.litellm_requests", f"'{load_id}' as _dlt_load_id"),
            twice("staging.stg_litellm__requests", f"'{load_id}' as load_id"),
            twice("marts.sessions", f"cast('{written_at}' as timestamptz) as created_at"),
        ],
    )


def test_a_duplicate_key_among_the_new_rows_fails_the_scoped_tests(demo: DemoRun, tmp_path: Path) -> None:
    newest = newest_load(demo.home)
    later = shifted(newest, 3600)
    assert later > newest
    # a load after the last build's newest, and a session row written after the tests' run began
    home = plant_duplicates(demo, tmp_path / "new", later, "2999-01-01 00:00:00+00")
    failing = {model: "fail" for model in MODELS}
    assert key_tests(home, NewRows(loads_after=newest)) == failing
    # a load up to the boundary was complete when the last build tested its rows: out of scope
    assert key_tests(home, NewRows(loads_after=later))["base_litellm__requests"] == "pass"
    assert key_tests(home, None) == failing


def test_a_duplicate_key_before_the_run_is_left_to_the_unscoped_tests(demo: DemoRun, tmp_path: Path) -> None:
    newest = newest_load(demo.home)
    # a load before the last build's newest, and a session row written long before the run
    earlier = shifted(newest, -3600)
    assert earlier < newest
    home = plant_duplicates(demo, tmp_path / "old", earlier, "2000-01-01 00:00:00+00")
    assert key_tests(home, NewRows(loads_after=newest)) == {model: "pass" for model in MODELS}
    # without a load to start from, the load-scoped models are tested on every row
    assert key_tests(home, NewRows(loads_after=None)) == {
        "base_litellm__requests": "fail",
        "stg_litellm__requests": "fail",
        "sessions": "pass",
    }
    assert key_tests(home, None) == {model: "fail" for model in MODELS}

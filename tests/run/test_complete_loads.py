"""prodlens.build_state.RawLoads on loads dlt itself left half done: a run killed after dlt copied a
package's rows into raw, before it recorded the load in raw._dlt_loads, leaves rows whose load is not
complete. The next build's new-rows tests (NewRows) start after `complete_through`, so that load is
tested again once the rerun has finished it under the same id."""

from __future__ import annotations

from pathlib import Path

import duckdb

from prodlens import build_state
from tests.run.harness import assert_exactly_once, run, start


def completed(home_warehouse: Path) -> list[str]:
    with duckdb.connect(str(home_warehouse), read_only=True) as con:
        return [
            str(i)
            for (i,) in con.execute(
                "select load_id from raw._dlt_loads where status = 0 order by 1"
            ).fetchall()
        ]


def test_a_load_killed_before_its_record_is_not_complete_until_the_rerun_finishes_it(tmp_path: Path) -> None:
    home, book, config = start(tmp_path, files=1)
    first = build_state.raw_loads(home)
    assert first.complete_through is not None
    assert first.complete_through == max(first.newest.values()) in completed(home.warehouse)
    assert build_state.complete_through_built(home) == first.complete_through

    book.add_file(good=20, duplicates=0, bad=0)
    killed = run(home, config, kill_at="load-complete-package")
    assert killed.killed, killed.describe()
    half = build_state.raw_loads(home)
    pending = half.newest["litellm_requests"]
    assert pending > first.complete_through  # dlt copied the new rows into raw under a new load id ...
    assert pending not in completed(home.warehouse)  # ... and has not recorded the load
    assert half.complete_through == first.complete_through  # so its rows are not final yet

    rerun = run(home, config)
    assert rerun.returncode == 0, rerun.describe()
    assert_exactly_once(home, book)
    done = build_state.raw_loads(home)
    assert done.newest["litellm_requests"] == pending  # finished under the same id
    assert done.complete_through == pending in completed(home.warehouse)
    assert build_state.complete_through_built(home) == pending

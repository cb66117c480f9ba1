"""Build and publish: the one path from loaded raw data to the published marts, used by `prodlens build`,
`prodlens demo` and the build and publish steps of `prodlens run`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from prodlens import build_state, target
from prodlens.dbt_runner import NewRows, run_dbt
from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.publish import PublishResult, publish_marts
from prodlens.warehouse import connect, table_exists

if TYPE_CHECKING:
    from prodlens.dbt_process import DbtProcess


class NothingToBuild(UserError):
    """No source has loaded data into this home yet."""


class BuildFailed(UserError):
    """dbt build failed; the published database is unchanged. `failed_nodes` names what failed."""

    def __init__(self, message: str, failed_nodes: list[str]) -> None:
        super().__init__(message)
        self.failed_nodes = failed_nodes


def has_loaded(home: Home) -> bool:
    """True once a dlt load has completed into the working file (dlt creates raw._dlt_loads), or on a
    lake target once a dlt pipeline has stored a schema."""
    if target.uses_lake():
        from prodlens.lake import schema_files

        return bool(schema_files(home))
    if not home.warehouse.exists():
        return False
    # read-write, like every other open of this file in this process (DuckDB shares one instance per path)
    con = connect(home.warehouse)
    try:
        return table_exists(con, "raw", "_dlt_loads")
    finally:
        con.close()


def failed_nodes(home: Home) -> list[str]:
    """The failed nodes of the last dbt invocation that wrote run_results.json, e.g.
    ["test unique_sessions_trace_hash"]."""
    try:
        doc = json.loads((home.dbt_target / "run_results.json").read_text())
    except (OSError, ValueError):
        return []
    return failed_among(
        {str(r.get("unique_id", "?.?.?")): str(r.get("status")) for r in doc.get("results", [])}
    )


def failed_among(statuses: dict[str, str]) -> list[str]:
    """The failed nodes among dbt's statuses by unique id, as "<type> <name>", in dbt's order."""
    failed = []
    for unique_id, status in statuses.items():
        if status in ("error", "fail", "runtime error"):
            parts = unique_id.split(".")
            failed.append(f"{parts[0]} {parts[2] if len(parts) > 2 else parts[-1]}")
    return failed


# dbt flags that choose nodes: a scheduled run whose build arguments carry one adds no selection of its own
SELECTION_FLAGS = ("--select", "-s", "--models", "-m", "--selector", "--inline")
RESOURCE_TYPE_FLAGS = (
    "--resource-type",
    "--resource-types",
    "--exclude-resource-type",
    "--exclude-resource-types",
)


def dbt_build(
    home: Home,
    args: Sequence[str] = (),
    *,
    quiet: bool = False,
    skip_passed_unit_tests: bool = False,
    new_rows: NewRows | None = None,
    artifacts: bool = True,
    process: DbtProcess | None = None,
) -> bool:
    """`dbt build` (seeds, models, tests) of the working file; BuildFailed names the failed nodes.

    skip_passed_unit_tests: leave dbt's unit tests out when all of them passed on this very project
    (prodlens.build_state), unless `args` choose resource types themselves. Scheduled runs pass it.
    new_rows: the incremental models' data tests read the rows this build added (scheduled runs after an
    earlier successful build; prodlens.dbt_runner.NewRows); None: every row.
    artifacts: False leaves dbt's manifest.json and run_results.json unwritten (a scheduled run whose
    manifest would be the last build's: build_state.manifest_is_current). Failed nodes and passed unit
    tests come from the invocation itself either way.
    process: a dbt process started ahead of need (prodlens.dbt_process) runs the command instead of this
    one (DuckDB targets). Returns whether the unit tests were left out."""
    if not has_loaded(home):
        raise NothingToBuild(
            f"nothing to build in {home.root}: no source has loaded data yet "
            "(prodlens load traces PATH, or prodlens load github --repo OWNER/NAME)"
        )
    from prodlens.ingest.tables import ensure_raw_tables  # dlt loads only for a build

    ensure_raw_tables(home)  # a home with only one source loaded still builds
    build_state.forget(home)  # whatever this build makes, the last run's record no longer describes it
    (home.dbt_target / "run_results.json").unlink(missing_ok=True)
    skip_unit_tests = (
        skip_passed_unit_tests
        and not any(arg.split("=")[0] in RESOURCE_TYPE_FLAGS for arg in args)
        and build_state.unit_tests_passed(home)
    )
    if skip_unit_tests:
        args = [*args, "--exclude-resource-type", "unit_test"]
    statuses: dict[str, str] | None = None  # the lake build's come from run_results.json
    if target.uses_lake():
        from prodlens.lake_build import build_on_lake

        built = build_on_lake(home, args, quiet=quiet)
        failed = [] if built else failed_nodes(home)
        stopped = None
    else:
        runner = process.run if process is not None else run_dbt
        run = runner(
            home,
            ["build", *args],
            quiet=quiet,
            new_rows=new_rows,
            artifacts=artifacts,
        )
        built, failed, statuses = run.success, failed_among(run.statuses), run.statuses
        stopped = run.error
    if not built:
        what = f" ({', '.join(failed[:5])}{', ...' if len(failed) > 5 else ''})" if failed else ""
        why = f": {stopped.strip().splitlines()[0]}" if stopped and stopped.strip() and not failed else ""
        raise BuildFailed(
            f"dbt build failed{what}{why}; see {home.dbt_logs / 'dbt.log'}. The published database was not changed",
            failed,
        )
    build_state.record_unit_tests(home, statuses)
    return skip_unit_tests


def build_and_publish(home: Home, args: Sequence[str] = (), *, quiet: bool = False) -> PublishResult:
    """dbt build, then publish the marts atomically (readers see the old or the new version, never half)."""
    dbt_build(home, args, quiet=quiet)
    return publish_marts(home)

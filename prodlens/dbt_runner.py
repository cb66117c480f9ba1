"""Running dbt against the working database of a PRODLENS_HOME."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prodlens.home import Home
from prodlens.project import project_dir


def dbt_env(home: Home) -> dict[str, str]:
    """Environment that points profiles.yml at this home. dbt runs in the home folder (`in_home`) and the
    working file is named relative to it, so the profile is the same for every home and dbt's saved
    partial parse of one home serves the next (`shared_partial_parse`)."""
    return {
        "PRODLENS_HOME": str(home.root),
        "PRODLENS_WAREHOUSE": home.warehouse.name,
        "DBT_PROFILES_DIR": str(project_dir()),
        "DBT_PROJECT_DIR": str(project_dir()),
        "DBT_TARGET_PATH": str(home.dbt_target),
        "DBT_LOG_PATH": str(home.dbt_logs),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def read_manifest(home: Home) -> dict[str, Any]:
    """dbt's manifest.json from the last parse or build of this home (OSError or ValueError when there is
    none or it is unreadable)."""
    manifest: dict[str, Any] = json.loads((home.dbt_target / "manifest.json").read_text())
    return manifest


#: dbt's own default for dbt.log is debug: every statement's SQL, ~1.5 s of a 20 s scheduled run at 1M rows.
#: Info keeps each node's start, result and errors; DBT_LOG_LEVEL_FILE=debug in the environment brings the SQL back.
LOG_LEVEL_FILE = "info"

#: macros/tests/get_where_subquery.sql: `new_rows` tests the incremental models on the rows a run wrote
TEST_SCOPE = "PRODLENS_TEST_SCOPE"
#: With TEST_SCOPE new_rows: rows of the dlt loads after this one are new (macros/tests/get_where_subquery.sql).
TESTED_LOADS_AFTER = "PRODLENS_TESTED_LOADS_AFTER"


@dataclass(frozen=True)
class NewRows:
    """A scheduled run's data tests read the rows it added, not every row (macros/tests/get_where_subquery.sql).

    The models that name `meta.written_at` are tested on the rows written since the run began. The models
    that name `meta.loaded_by` are tested on the rows of the dlt loads after `loads_after` (the load up to
    which every load the last build read had completed: prodlens.build_state.RawLoads); with no
    `loads_after`, on every row."""

    loads_after: str | None = None

    @staticmethod
    def env(new_rows: NewRows | None) -> dict[str, str]:
        """The variables the macro reads: None tests every row."""
        if new_rows is None:
            return {TEST_SCOPE: "all", TESTED_LOADS_AFTER: ""}
        return {TEST_SCOPE: "new_rows", TESTED_LOADS_AFTER: new_rows.loads_after or ""}


#: dbt's saved parse of the project, in each home's target folder
PARTIAL_PARSE = "partial_parse.msgpack"


def partial_parse_cache() -> Path:
    """Where the newest partial parse of any home of this project folder is kept:
    $XDG_CACHE_HOME/prodlens/<project>/ (~/.cache/prodlens/...). One per project folder: dbt accepts a parse
    made from another copy of the same files, but it holds that copy's absolute paths (a seed's CSV)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    project = hashlib.sha256(str(project_dir().resolve()).encode()).hexdigest()[:16]
    return Path(root) / "prodlens" / project / PARTIAL_PARSE


@contextlib.contextmanager
def shared_partial_parse(home: Home) -> Iterator[None]:
    """A home without a partial parse of its own starts from the newest one any home saved, and a parse
    this invocation saved becomes the newest. A full parse of the project costs ~5 s; dbt checks a saved
    parse against the project files, vars, profile and dbt version, and parses afresh whatever differs, so
    a stale cache costs only the parse it would have made anyway. Copies go through a temporary file and
    os.replace: concurrent homes never read half a file. A cache that cannot be read or written is skipped."""
    saved = home.dbt_target / PARTIAL_PARSE
    cache = partial_parse_cache()
    if not saved.exists() and cache.exists():
        with contextlib.suppress(OSError):
            _copy_atomically(cache, saved)
    before = _mtime(saved)
    try:
        yield
    finally:
        if saved.exists() and _mtime(saved) != before:
            with contextlib.suppress(OSError):
                _copy_atomically(saved, cache)


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _copy_atomically(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}")
    shutil.copyfile(source, temporary)
    os.replace(temporary, destination)


@contextlib.contextmanager
def in_home(home: Home) -> Iterator[None]:
    """Run in the home folder (profiles.yml names the working file relative to it), then return."""
    previous = Path.cwd()
    os.chdir(home.root)
    try:
        yield
    finally:
        os.chdir(previous)


def release_duckdb() -> None:
    """Close the DuckDB instance dbt-duckdb keeps for the process. It reuses that instance for as long as the
    profile's credentials stay equal, and the profile names the working file relative to the home: a later
    dbt run in this process for another home would otherwise read and write this home's file. Closing it
    also frees the file for other processes once dbt is done."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter only
        return
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if environment is not None:
            environment.close()


@dataclass(frozen=True)
class DbtRun:
    """One dbt invocation: whether it succeeded (true as a bool), and the status of each node it ran by
    unique id (`success`, `pass`, `error`, `fail`, ...), taken from the invocation itself, so they are
    known whether or not dbt wrote run_results.json. `error` is the exception that stopped dbt itself
    (a project that does not parse, a database it cannot open), when one did."""

    success: bool
    statuses: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def __bool__(self) -> bool:
        return self.success


def node_statuses(result: Any) -> dict[str, str]:
    """unique id -> status of the nodes in a dbtRunnerResult's result (none for commands without nodes)."""
    statuses: dict[str, str] = {}
    for node_result in getattr(result, "results", None) or []:
        node = getattr(node_result, "node", None)
        status = getattr(node_result, "status", None)
        if node is not None and status is not None:
            statuses[str(node.unique_id)] = str(getattr(status, "value", status))
    return statuses


def run_dbt(
    home: Home,
    args: Sequence[str],
    *,
    quiet: bool = False,
    new_rows: NewRows | None = None,
    artifacts: bool = True,
) -> DbtRun:
    """Run one dbt command in-process; true when it succeeded (models built and tests passed).

    quiet: dbt prints only its errors, and on stderr, so that stdout carries only the command's own
    output (the summary of `prodlens run`, the tables of `prodlens demo`).
    new_rows: the data tests of the incremental models read only the rows this build added (NewRows);
    None: every row.
    artifacts: False leaves dbt's manifest.json and run_results.json as they were (`--no-write-json`):
    writing them costs ~1 s per invocation whatever the data (the manifest is written twice)."""
    from dbt.cli.main import dbtRunner

    home.ensure()
    os.environ.update(dbt_env(home))
    os.environ.update(NewRows.env(new_rows))
    flags = ["--quiet"] if quiet else []
    if "DBT_LOG_LEVEL_FILE" not in os.environ:
        flags += ["--log-level-file", LOG_LEVEL_FILE]
    if not artifacts:
        flags.append("--no-write-json")
    cli_args = [*flags, *args, "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir())]
    console = contextlib.redirect_stdout(sys.stderr) if quiet else contextlib.nullcontext()
    # dbt's console logger writes to the sys.stdout of the moment it is set up
    try:
        with console, in_home(home), shared_partial_parse(home):
            result = dbtRunner().invoke(cli_args)
    finally:
        release_duckdb()
    error = None if result.exception is None else str(result.exception)
    if error is not None and not quiet:
        print(f"dbt failed: {error}")
    return DbtRun(bool(result.success), node_statuses(result.result), error)

"""Running dbt against the working database of a PRODLENS_HOME."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from prodlens.home import Home
from prodlens.project import project_dir


def dbt_env(home: Home) -> dict[str, str]:
    """Environment that points profiles.yml at this home (absolute paths, so the cwd does not matter)."""
    return {
        "PRODLENS_HOME": str(home.root),
        "PRODLENS_WAREHOUSE": str(home.warehouse),
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


def run_dbt(home: Home, args: Sequence[str], *, quiet: bool = False, new_rows_tests: bool = False) -> bool:
    """Run one dbt command in-process; True when it succeeded (models built and tests passed).

    quiet: dbt prints only its errors, and on stderr, so that stdout carries only the command's own
    output (the summary of `prodlens run`, the tables of `prodlens demo`).
    new_rows_tests: data tests of the incremental models read only the rows this build wrote."""
    from dbt.cli.main import dbtRunner

    home.ensure()
    os.environ.update(dbt_env(home))
    os.environ[TEST_SCOPE] = "new_rows" if new_rows_tests else "all"
    flags = ["--quiet"] if quiet else []
    if "DBT_LOG_LEVEL_FILE" not in os.environ:
        flags += ["--log-level-file", LOG_LEVEL_FILE]
    cli_args = [*flags, *args, "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir())]
    console = contextlib.redirect_stdout(sys.stderr) if quiet else contextlib.nullcontext()
    with console:  # dbt's console logger writes to the sys.stdout of the moment it is set up
        result = dbtRunner().invoke(cli_args)
    if result.exception is not None and not quiet:
        print(f"dbt failed: {result.exception}")
    return bool(result.success)

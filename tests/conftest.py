"""Shared fixtures: every test gets its own PRODLENS_HOME, and the CLI runs in-process or as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from prodlens.home import Home

if TYPE_CHECKING:
    from tests.report.demo_run import DemoRun

REPO_ROOT = Path(__file__).resolve().parent.parent
# `prodlens build` arguments that build only what the trace tests read (the full build is tested elsewhere).
BUILD_SESSIONS = ("--", "--select", "+sessions", "+rejected_traces", "--exclude", "test_type:singular")


# Tests that share a session-scoped build run in one pytest-xdist worker (`make test` runs two), so the
# build happens once; every other module is a group of its own, so its module-scoped fixtures run once.
SHARED_BUILDS = {
    "analytics": "sample-build",  # tests/analytics/conftest.py: the sample data built in three batches
    "report": "demo",  # tests/report/demo_run.py: one `prodlens demo`
    "stats/test_models.py": "demo",
    "test_demo.py": "demo",
    "dbt_project": "demo",  # tests/dbt_project: rules checked on the demo's manifest and warehouse
    # one Spark build at a time: beside test_spark_incremental.py's, the parity build took 17.5 min in CI
    # against 11.5 min (two JVMs on two cores)
    "lake/test_spark": "spark",
}


# tryfirst: pytest-xdist's own hook reads the groups into the test ids, and without it runs first
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).resolve().parent
    for item in items:
        path = Path(str(item.path)).resolve().relative_to(tests).as_posix()
        group = next((g for prefix, g in SHARED_BUILDS.items() if path.startswith(prefix)), path)
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One `prodlens demo` per test session (tests/report/demo_run.py), read by the tests that use it; a
    test that changes its data works on a copy (tampered_copy)."""
    from tests.report.demo_run import shared_demo

    return shared_demo(tmp_path_factory)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Home]:
    """A fresh PRODLENS_HOME for one test."""
    root = tmp_path / "home"
    monkeypatch.setenv("PRODLENS_HOME", str(root))
    yield Home(root)


def prodlens(
    *args: str, home: Home, env: dict[str, str] | None = None, check: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the `prodlens` CLI in a subprocess against `home` (in the repository unless `cwd` is given)."""
    full_env = {**os.environ, "PRODLENS_HOME": str(home.root), "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "prodlens.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO_ROOT,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"prodlens {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def query(home: Home, sql: str) -> list[dict]:
    """Rows of `sql` against the published marts, via `prodlens query --format json`."""
    return json.loads(prodlens("query", sql, "--format", "json", home=home).stdout)


def write_jsonl(path: Path, records: list[dict | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def not_null_columns(test_node: dict[str, Any]) -> set[str]:
    """The columns a data test node of manifest.json holds non-null: a `not_null` test's column, or the
    `not_null` list of a model's `column_values` test (macros/tests/column_values.sql)."""
    meta = test_node.get("test_metadata") or {}
    if meta.get("name") == "not_null" and test_node.get("column_name"):
        return {test_node["column_name"]}
    if meta.get("name") == "column_values":
        return set(meta["kwargs"].get("not_null") or ())
    return set()


def tampered_copy(source: Home, folder: Path, statements: Iterable[str]) -> Home:
    """A new home in `folder` whose working file is a copy of `source`'s with `statements` applied: a test
    breaks the copy, and the build it shares stays clean."""
    import duckdb

    copy = Home(folder / "home")
    copy.root.mkdir(parents=True)
    copy.warehouse.write_bytes(source.warehouse.read_bytes())
    con = duckdb.connect(str(copy.warehouse))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return copy

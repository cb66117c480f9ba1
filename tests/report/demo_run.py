"""One `prodlens demo` per test session, shared by tests/report and tests/stats/test_models.py.

The demo runs as a subprocess in its own folder (its `demo-report.html` lands there) with its own
PRODLENS_HOME. Tests only read it; a test that needs a rebuild copies the warehouse first.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from prodlens.cli import main
from prodlens.home import Home
from tests.conftest import REPO_ROOT


@dataclass(frozen=True)
class DemoRun:
    home: Home
    cwd: Path
    stdout: str

    @property
    def report(self) -> Path:
        return self.cwd / "demo-report.html"

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.home.published), read_only=True)


_RUNS: dict[str, DemoRun] = {}


def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    if "demo" not in _RUNS:
        cwd = tmp_path_factory.mktemp("demo-run")
        home = Home(cwd / "home")
        proc = subprocess.run(
            [sys.executable, "-m", "prodlens.cli", "demo"],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, "PRODLENS_HOME": str(home.root), "PYTHONPATH": str(REPO_ROOT)},
        )
        assert proc.returncode == 0, f"prodlens demo failed:\n{proc.stdout}\n{proc.stderr}"
        _RUNS["demo"] = DemoRun(home=home, cwd=cwd, stdout=proc.stdout)
    return _RUNS["demo"]


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, home: Home, cwd: Path, check: bool = True, in_process: bool = True) -> Result:
    """Run `prodlens ARGS` against `home` in `cwd`: in-process (fast; the CLI's own error handling) or as
    a subprocess (for dbt builds, which set process-wide environment variables)."""
    if in_process:
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
            patch.setenv("PRODLENS_HOME", str(home.root))
            patch.chdir(cwd)
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse errors
                code = exc.code if isinstance(exc.code, int) else 1
        result = Result(code, out.getvalue(), err.getvalue())
    else:
        proc = subprocess.run(
            [sys.executable, "-m", "prodlens.cli", *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, "PRODLENS_HOME": str(home.root), "PYTHONPATH": str(REPO_ROOT)},
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
    if check:
        assert result.returncode == 0, f"prodlens {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def mart_rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    """Rows of `sql` as dicts (on a fresh cursor of `con`)."""
    cursor = con.cursor().execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

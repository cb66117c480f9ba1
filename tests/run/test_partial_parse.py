"""dbt in many homes: a new home starts from the newest partial parse any home saved instead of parsing
the whole project again (prodlens.dbt_runner.shared_partial_parse), and dbt runs for two homes in one
process write each its own working file (prodlens.dbt_runner.release_duckdb)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from prodlens import dbt_runner
from prodlens.dbt_runner import PARTIAL_PARSE, partial_parse_cache
from prodlens.home import Home
from tests.conftest import REPO_ROOT

PARSE = (
    "import sys; from prodlens.dbt_runner import run_dbt; from prodlens.home import Home; "
    "sys.exit(0 if run_dbt(Home.from_env(), ['parse', *sys.argv[1:]], quiet=True) else 1)"
)
FULL_PARSE = "Unable to do partial parsing"


def partial_parse_cache_in(cache: Path) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        return partial_parse_cache()


def test_each_project_folder_has_its_own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # dbt takes a parse made from another copy of the project, with that copy's absolute seed paths
    monkeypatch.setattr(dbt_runner, "project_dir", lambda: tmp_path / "one")
    one = partial_parse_cache()
    monkeypatch.setattr(dbt_runner, "project_dir", lambda: tmp_path / "two")
    assert partial_parse_cache() != one
    assert partial_parse_cache().name == one.name == PARTIAL_PARSE


def parse(home: Home, cache: Path, *args: str) -> str:
    """`dbt parse` in `home` through prodlens (cwd elsewhere); the lines dbt logged for this parse."""
    log = home.dbt_logs / "dbt.log"
    start = log.stat().st_size if log.exists() else 0
    proc = subprocess.run(
        [sys.executable, "-c", PARSE, *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PRODLENS_HOME": str(home.root), "XDG_CACHE_HOME": str(cache)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with log.open() as f:
        f.seek(start)
        return f.read()


def test_a_new_home_starts_from_the_last_homes_parse(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, second = Home(tmp_path / "first"), Home(tmp_path / "second")

    logged = parse(first, cache)
    assert "saved manifest not found" in logged  # nothing to start from
    cached = partial_parse_cache_in(cache)
    assert cached.read_bytes() == (first.dbt_target / PARTIAL_PARSE).read_bytes()

    logged = parse(second, cache)
    assert FULL_PARSE not in logged, logged  # the profile names the file relative to the home
    assert (second.dbt_target / PARTIAL_PARSE).exists()

    # other vars: dbt itself rejects the saved parse and parses afresh, and that parse is the newest
    logged = parse(second, cache, "--vars", '{"include_bots": true}')
    assert "config vars, config profile, or config target have changed" in logged
    assert cached.read_bytes() == (second.dbt_target / PARTIAL_PARSE).read_bytes()


def test_an_unusable_cache_is_passed_over(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    partial_parse_cache_in(cache).parent.mkdir(parents=True)
    partial_parse_cache_in(cache).write_bytes(b"not a msgpack file")
    home = Home(tmp_path / "home")

    parse(home, cache)  # dbt rejects the broken copy (logged at debug level) and parses afresh
    assert (home.dbt_target / PARTIAL_PARSE).read_bytes() != b"not a msgpack file"
    assert partial_parse_cache_in(cache).read_bytes() == (home.dbt_target / PARTIAL_PARSE).read_bytes()


TWO_HOMES = """
import sys
from pathlib import Path
from prodlens.dbt_runner import run_dbt
from prodlens.home import Home
first, second = Home(Path(sys.argv[1])), Home(Path(sys.argv[2]))
ok = run_dbt(first, ["seed", "--select", "bot_logins"], quiet=True)
ok = ok and run_dbt(second, ["seed", "--select", "tenant_repositories"], quiet=True)
sys.exit(0 if ok else 1)
"""


def test_dbt_runs_for_two_homes_in_one_process_write_each_its_own_file(tmp_path: Path) -> None:
    # the profile names the working file relative to the home, so dbt-duckdb's per-process instance must
    # not outlive a run: the second home's seed would land in the first home's file
    first, second = Home(tmp_path / "first"), Home(tmp_path / "second")
    proc = subprocess.run(
        [sys.executable, "-c", TWO_HOMES, str(first.root), str(second.root)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

    def seeds(home: Home) -> set[str]:
        con = duckdb.connect(str(home.warehouse))  # read-write: the process before let the file go
        try:
            rows = con.execute(
                "select table_name from information_schema.tables where table_schema = 'seeds'"
            )
            return {name for (name,) in rows.fetchall()}
        finally:
            con.close()

    assert seeds(first) == {"bot_logins"}
    assert seeds(second) == {"tenant_repositories"}

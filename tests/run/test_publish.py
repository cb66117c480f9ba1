"""Publishing: a complete copy of the marts, swapped in atomically; old readers keep their version."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from prodlens.home import Home
from prodlens.publish import MANIFEST, publish_marts, remove_stale_temp_files, temp_path
from tests.run.harness import REPO_ROOT


def make_warehouse(home: Home, sessions: int = 3) -> None:
    home.ensure()
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("create schema if not exists marts; create schema if not exists staging")
        con.execute(
            "create or replace table marts.sessions as select range as id, 'r' || range as request_id "
            f"from range({sessions})"
        )
        con.execute(
            "create or replace view marts.sessions_view as select id from marts.sessions where id > 0"
        )
        con.execute("create or replace table staging.private as select 1 as x")
        con.execute("create or replace view marts.staged_view as select x from staging.private")
        con.execute("create or replace table marts.sessions__dbt_tmp as select 1 as leftover")


def published_rows(home: Home) -> dict[str, int]:
    with duckdb.connect(str(home.published), read_only=True) as con:
        return dict(con.execute(f"select relation, row_count from {MANIFEST} order by 1").fetchall())


def test_publish_copies_the_marts_as_tables(home: Home) -> None:
    make_warehouse(home)
    result = publish_marts(home)
    assert result.rows == {"marts.sessions": 3, "marts.sessions_view": 2, "marts.staged_view": 1}
    assert published_rows(home) == result.rows
    with duckdb.connect(str(home.published), read_only=True) as con:
        kinds = dict(
            con.execute(
                "select table_schema || '.' || table_name, table_type from information_schema.tables order by 1"
            ).fetchall()
        )
    # views become tables (readers never reach into the working file); staging and dbt leftovers stay out
    assert kinds == {
        "main.prodlens_manifest": "BASE TABLE",
        "marts.sessions": "BASE TABLE",
        "marts.sessions_view": "BASE TABLE",
        "marts.staged_view": "BASE TABLE",
    }
    assert stat.S_IMODE(home.published.stat().st_mode) == 0o444
    assert not [p for p in home.root.iterdir() if p.name.startswith(".prodlens.duckdb.")]
    assert publish_marts(home).relations == 3


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = lambda c: c.execute("select count(*) from marts.sessions").fetchone()[0]
print(count(con), flush=True)
sys.stdin.readline()                       # the file is replaced meanwhile
print(count(con), flush=True)              # the open connection: still the old version
"""


def test_an_open_reader_keeps_the_old_version_and_new_readers_see_the_new_one(home: Home) -> None:
    make_warehouse(home, sessions=3)
    publish_marts(home)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(home.published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert reader.stdout is not None and reader.stdin is not None
    assert reader.stdout.readline().strip() == "3"
    make_warehouse(home, sessions=5)
    publish_marts(home)  # the reader still has the old file open: publishing must not fail or wait
    reader.stdin.write("\n")
    reader.stdin.flush()
    assert reader.stdout.readline().strip() == "3"
    reader.wait(timeout=60)
    with duckdb.connect(str(home.published), read_only=True) as con:
        assert con.execute("select count(*) from marts.sessions").fetchone()[0] == 5


WAL_ONLY = """
import os, sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("set checkpoint_threshold = '1GB'")
con.execute("insert into marts.sessions select 100 + range, 'wal' || range from range(7)")
os._exit(0)                                # committed, but never checkpointed into the file
"""


def test_rows_committed_only_to_the_wal_are_published(home: Home) -> None:
    make_warehouse(home, sessions=3)
    subprocess.run([sys.executable, "-c", WAL_ONLY, str(home.warehouse)], check=True, cwd=REPO_ROOT)
    wal = Path(f"{home.warehouse}.wal")
    assert wal.exists() and wal.stat().st_size > 0
    assert publish_marts(home).rows["marts.sessions"] == 10
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed before the copy


def test_failed_publish_leaves_the_published_file_as_it_was(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_warehouse(home, sessions=3)
    publish_marts(home)
    before = home.published.read_bytes()
    make_warehouse(home, sessions=9)

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("prodlens.publish.drop_schema", broken)
    with pytest.raises(OSError, match="disk full"):
        publish_marts(home)
    assert home.published.read_bytes() == before
    assert not [p for p in home.root.iterdir() if p.name.startswith(".prodlens.duckdb.")]


def test_stale_temporary_files_of_dead_publishers_are_removed(home: Home) -> None:
    home.ensure()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = temp_path(home, int(dead.stdout))
    stale.write_bytes(b"half a database")
    Path(f"{stale}.wal").write_bytes(b"wal")
    alive = temp_path(home, os.getppid())  # a publisher that is still running
    alive.write_bytes(b"in progress")
    removed = remove_stale_temp_files(home)
    assert sorted(p.name for p in removed) == sorted([stale.name, f"{stale.name}.wal"])
    assert alive.exists() and not stale.exists()


def test_a_wal_beside_the_published_file_is_removed(home: Home) -> None:
    make_warehouse(home)
    publish_marts(home)
    stale_wal = Path(f"{home.published}.wal")
    stale_wal.write_bytes(b"left by someone who opened the old file read-write")
    publish_marts(home)
    assert not stale_wal.exists()
    assert published_rows(home)["marts.sessions"] == 3

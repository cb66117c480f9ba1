"""dbt's test materialization on DuckDB (macros/tests/test_materialization.sql): each data test's failures
are stored in schema dq by one `create or replace`, severities and thresholds mean what they mean in dbt,
and a stored relation of the other type is replaced."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from prodlens.home import Home
from tests.conftest import prodlens, tampered_copy
from tests.report.demo_run import DemoRun


def stored(home: Home, name: str) -> tuple[str, list[tuple]]:
    """The type of dq.<name> (VIEW or BASE TABLE) and its rows, ordered."""
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        kind = con.execute(
            "select table_type from information_schema.tables where table_schema = 'dq' and table_name = ?",
            [name],
        ).fetchone()
        rows = con.execute(f"select * from dq.{name} order by all").fetchall()
    finally:
        con.close()
    assert kind is not None, f"dq.{name} was not stored"
    return kind[0], rows


def build_one(home: Home, name: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`prodlens build` of the one node `name`: its exit code and everything it printed."""
    proc = prodlens("build", "--", "--select", name, home=home, env=env, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_a_warning_stores_its_failures_and_the_build_passes(demo: DemoRun, tmp_path: Path) -> None:
    con = duckdb.connect(str(demo.home.warehouse), read_only=True)
    tenant, day, requests = con.execute(
        "select tenant_id, event_date, count(*) from marts.sessions where tenant_id is not null "
        "group by all order by all limit 1"
    ).fetchone()
    con.close()
    # two of the tenant-day's requests priced at the default price: more than 1% of it when it has < 200
    assert requests < 200
    home = tampered_copy(
        demo.home,
        tmp_path,
        [
            "update marts.sessions set pricing_status = 'catalog' where pricing_status = 'default'",
            f"update marts.sessions set pricing_status = 'default', model = 'unknown-model' where rowid in ("
            f"select rowid from marts.sessions where tenant_id = '{tenant}' and event_date = '{day}' "
            "order by trace_hash limit 2)",
        ],
    )
    code, output = build_one(home, "dq_unpriced_request_share")
    assert code == 0, output
    kind, rows = stored(home, "dq_unpriced_request_share")
    assert kind == "VIEW"
    assert rows == [(tenant, day, requests, 2, 2 / requests, ["unknown-model"])]


def test_an_error_fails_the_build_and_keeps_its_failing_rows(demo: DemoRun, tmp_path: Path) -> None:
    home = tampered_copy(
        demo.home,
        tmp_path,
        [
            "update marts.sessions set trace_hash = (select trace_hash from marts.sessions where rowid = 3) "
            "where rowid < 3"
        ],
    )
    code, output = build_one(home, "unique_sessions_trace_hash")
    assert code != 0
    # named from the invocation's own statuses (prodlens.build.failed_among)
    assert "dbt build failed (test unique_sessions_trace_hash)" in output
    kind, rows = stored(home, "unique_sessions_trace_hash")
    assert kind == "VIEW"
    assert [count for _, count in rows] == [4]  # row 3's hash, now on rows 0, 1 and 2 too


def test_a_stored_table_of_the_same_name_becomes_the_view(demo: DemoRun, tmp_path: Path) -> None:
    # dbt's store_failures_as: table (or an older dbt) left a table where this project stores a view
    home = tampered_copy(
        demo.home,
        tmp_path,
        [
            "create schema if not exists dq",
            "drop view if exists dq.unique_sessions_trace_hash",
            "create table dq.unique_sessions_trace_hash as select 'stale' as unique_field, 9 as n_records",
        ],
    )
    code, output = build_one(home, "unique_sessions_trace_hash")
    assert code == 0, output
    assert stored(home, "unique_sessions_trace_hash") == ("VIEW", [])


def test_a_data_test_runs_only_its_store_and_its_count(demo: DemoRun, tmp_path: Path) -> None:
    """dbt's own materialization drops the stored view in one transaction and creates it in another: nine
    statements per test, ~25 ms of a scheduled run each (issue 13). This one runs two, in autocommit."""
    home = tampered_copy(demo.home, tmp_path, [])
    name = "unique_sessions_trace_hash"
    code, output = build_one(home, name, env={"DBT_LOG_LEVEL_FILE": "debug"})
    assert code == 0, output
    log = (home.dbt_logs / "dbt.log").read_text()
    statements = [
        " ".join(re.sub(r"/\*.*?\*/", "", sql, flags=re.S).split()[:5]).lower()
        for sql in re.findall(rf"On test\.prodlens\.{name}\.\w+: (.*?)\n\S*\d\d:\d\d:\d\d", log, flags=re.S)
    ]
    # dbt-duckdb's catalog queries on the node's new connection aside
    own = [sql for sql in statements if not sql.startswith(("select database_name", "select table_name"))]
    assert own == [
        f'create or replace view "warehouse"."dq"."{name}"',
        "select count(*) as failures, count(*)",
        "close",
    ]

"""A build drops what no model or seed builds any more (macros/utils/drop_relations_without_nodes.sql): a
model a release removed, or dbt's leftovers of a crashed build, in the project's own schemas only."""

from __future__ import annotations

from pathlib import Path

import duckdb

from prodlens.home import Home
from tests.conftest import prodlens, tampered_copy
from tests.report.demo_run import DemoRun


def relations(home: Home) -> set[str]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = current_database()"
            ).fetchall()
        }
    finally:
        con.close()


def test_a_build_drops_relations_no_node_builds_and_keeps_the_rest(demo: DemoRun, tmp_path: Path) -> None:
    orphans = {
        # the priced copy of every request that earlier releases built beside sessions
        "intermediate.int_requests_priced",
        "marts.sessions__dbt_tmp",
        "staging.stg_litellm__requests__dbt_backup",
        "seeds.a_seed_since_removed",
    }
    others = {"raw.a_table_dlt_loaded", "dq.a_stored_failure"}
    statements = [f"create schema if not exists {name.split('.')[0]}" for name in others]
    statements += [f"create table {name} as select 1 as x" for name in orphans | others]
    statements.append("create view marts.a_view_since_removed as select 1 as x")
    home = tampered_copy(demo.home, tmp_path, statements)
    before = relations(home)
    assert orphans | others | {"marts.a_view_since_removed"} <= before

    # one small node: the hook looks at every relation of the project's schemas, not the selected ones
    proc = prodlens("build", "--", "--select", "stg_litellm__rejects", home=home)
    after = relations(home)
    assert after == before - orphans - {"marts.a_view_since_removed"}
    output = proc.stdout + proc.stderr
    assert "dropping" in output and "intermediate.int_requests_priced" in output
    # everything a model or seed builds is still there, and the published file has the marts only
    assert {"marts.sessions", "intermediate.int_analytics__requests", "seeds.model_prices"} <= after
    con = duckdb.connect(str(home.published), read_only=True)
    try:
        published = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    finally:
        con.close()
    assert "sessions" in published and "a_view_since_removed" not in published
    assert "sessions__dbt_tmp" not in published

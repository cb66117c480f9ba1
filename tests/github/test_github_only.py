"""A home with only one source loaded builds, with `prodlens build` or plain `dbt build`: every load
creates the raw tables of the other source empty, through that source itself, so their columns and types
are those a real load creates, and the staging models and every mart on them build (empty)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from prodlens.home import Home
from tests.conftest import REPO_ROOT, prodlens, query, write_jsonl
from tests.github.conftest import TOKEN, make_server
from tests.run.harness import record


def test_a_home_with_only_github_data_builds(home: Home, tmp_path: Path) -> None:
    with make_server() as server:
        env = {"GITHUB_API_URL": server.url, "GITHUB_TOKEN": TOKEN, "PRODLENS_GITHUB_WAIT_SCALE": "0"}
        prodlens("load", "github", "--repo", "acme/web", "--since", "2025-09-01", home=home, env=env)
    # the trace tables exist, empty
    assert raw_rows(home, "litellm_requests") == raw_rows(home, "litellm_rejects") == 0

    # every model, and the data tests on them (unit tests do not depend on the data)
    prodlens("build", "--", "--exclude", "resource_type:unit_test", home=home)

    counts = query(
        home,
        "select (select count(*) from sessions) as sessions, (select count(*) from pull_requests) as prs, "
        "(select count(*) from customer_roi_snapshots) as roi",
    )
    assert counts == [{"sessions": 0, "prs": 5, "roi": 0}]
    # the same columns and types as a real trace load creates
    real = Home(tmp_path / "real")
    write_jsonl(tmp_path / "one.jsonl", [record("r-1", datetime(2025, 9, 1, tzinfo=UTC))])
    prodlens("load", "traces", str(tmp_path / "one.jsonl"), home=real)
    assert raw_columns(home, "litellm_requests") == raw_columns(real, "litellm_requests")
    assert raw_columns(home, "litellm_rejects") == raw_columns(real, "litellm_rejects")
    assert len(raw_columns(home, "litellm_requests")) > 30


def raw_columns(home: Home, table: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? order by column_name",
            [table],
        ).fetchall()


def raw_rows(home: Home, table: str) -> int:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        (n,) = con.execute(f"select count(*) from raw.{table}").fetchone()  # type: ignore[misc]
    return int(n)


def test_a_home_with_only_trace_data_builds_with_plain_dbt(home: Home, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "one.jsonl", [record("r-1", datetime(2025, 9, 1, tzinfo=UTC))])
    prodlens("load", "traces", str(tmp_path / "one.jsonl"), home=home)
    for table in ("pull_requests", "commits", "pr_events", "etag_state", "developer_email_hashes"):
        assert raw_rows(home, table) == 0, table
    # plain dbt, as a user runs it from the checkout, on the GitHub models
    env = {**os.environ, "PRODLENS_HOME": str(home.root), "PRODLENS_WAREHOUSE": str(home.warehouse)}
    env.update({"DBT_TARGET_PATH": str(home.dbt_target), "DBT_LOG_PATH": str(home.dbt_logs)})
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--profiles-dir",
            ".",
            "--select",
            "+pull_requests",
            "+commits",
            "+daily_github_metrics",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    # the same columns and types as a real GitHub load creates
    real = Home(tmp_path / "real")
    with make_server() as server:
        genv = {"GITHUB_API_URL": server.url, "GITHUB_TOKEN": TOKEN, "PRODLENS_GITHUB_WAIT_SCALE": "0"}
        prodlens("load", "github", "--repo", "acme/web", "--since", "2025-09-01", home=real, env=genv)
    for table in ("pull_requests", "commits", "pr_events", "etag_state", "developer_email_hashes"):
        assert raw_columns(home, table) == raw_columns(real, table), table
        assert raw_columns(home, table), table

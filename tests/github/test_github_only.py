"""A home with only GitHub data loaded builds: the trace tables are created empty, with all their
columns, by the trace loader itself, so the LiteLLM staging and every mart on it build (empty)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from prodlens.home import Home
from tests.conftest import prodlens, query, write_jsonl
from tests.github.conftest import TOKEN, make_server
from tests.run.harness import record


def test_a_home_with_only_github_data_builds(home: Home, tmp_path: Path) -> None:
    with make_server() as server:
        env = {"GITHUB_API_URL": server.url, "GITHUB_TOKEN": TOKEN, "PRODLENS_GITHUB_WAIT_SCALE": "0"}
        prodlens("load", "github", "--repo", "acme/web", "--since", "2025-09-01", home=home, env=env)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        before = {t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
    assert "pull_requests" in before and "litellm_requests" not in before

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

"""Shared builds for the analytics mart tests.

`sample_build` loads the bundled sample logs in three batches, with an incremental dbt build after each:
  A. September's proxy log (tenant acme);
  B. October's proxy log and S3 files: new days after A's last day, so only A's look-back window is redone;
  C. the globex batch export and the OpenInference / callback / OTel exports: late data going back to
     1 September, older than the look-back window, which the ingestion watermark must pick up.
It snapshots every analytics mart, then rebuilds with --full-refresh (running every dbt test too) and
snapshots again. Everything runs through the `prodlens` CLI in subprocesses, against a private home.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from prodlens.cli.query import jsonable
from prodlens.home import Home
from tests.conftest import REPO_ROOT, prodlens

SAMPLE = REPO_ROOT / "sample_data" / "litellm"
POLICY_MODELS = ["anthropic/claude-3-5-haiku-20241022", "gpt-4o-mini"]
DBT_VARS = json.dumps({"policy_models": POLICY_MODELS})
# the analytics marts and everything upstream of them (not the other marts, to keep the tests quick)
# (plus the identity map, which an analysis uses)
ANALYTICS_SUBGRAPH = ["--select", "+path:models/marts/analytics", "+developer_identity_map", "+sessions"]
NO_TESTS = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]

BATCHES = (
    [SAMPLE / "proxy" / "litellm-2025-09.jsonl"],
    [SAMPLE / "proxy" / "litellm-2025-10.jsonl.gz", *sorted((SAMPLE / "s3").glob("2025-*"))],
    [SAMPLE / "s3" / "batch-export.json", SAMPLE / "exports"],
)

# the analytics marts and the columns that are build metadata rather than data
ANALYTICS_MARTS = (
    "daily_session_metrics",
    "session_summaries",
    "provider_performance",
    "cost_aggregations",
    "cost_by_tag",
    "usage_analytics",
    "developer_daily_usage",
    "routing_decisions",
    "customer_roi_snapshots",
    "prompt_version_metrics",
    "experiment_results",
    "report_daily_figures",
    "report_metrics",
    "metric_queries",
)
INCREMENTAL_MARTS = (
    "daily_session_metrics",
    "session_summaries",
    "provider_performance",
    "cost_aggregations",
    "cost_by_tag",
    "usage_analytics",
    "developer_daily_usage",
    "routing_decisions",
    "report_daily_figures",
)
# the incremental request-grain tables (schema.table; compared in the working database)
REQUEST_TABLES = ("staging.stg_litellm__requests", "marts.sessions")
METADATA_COLUMNS = {"created_at", "invocation_id"}
# per mart, more columns that record a run rather than the data: report_daily_figures' watermark is the
# time sessions priced its requests, which differs between a full refresh and incremental runs
RUN_COLUMNS = {"report_daily_figures": {"source_loaded_at"}}
# the day a row of an incremental mart belongs to (daily rows of provider_performance: its weekly and
# monthly rows are rebuilt for the whole week and month that contain the look-back window)
FIRST_DAY_REWRITTEN = {
    "daily_session_metrics": ("event_date", "true"),
    "session_summaries": ("cast(started_at as date)", "true"),
    "provider_performance": ("cast(period_start as date)", "aggregation_level = 'daily'"),
    "cost_aggregations": ("event_date", "true"),
    "cost_by_tag": ("event_date", "true"),
    "usage_analytics": ("event_date", "true"),
    "developer_daily_usage": ("event_date", "true"),
    "routing_decisions": ("event_date", "true"),
    "report_daily_figures": ("event_date", "true"),
}

Snapshot = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    return con


def query(home: Home, sql: str) -> list[dict[str, Any]]:
    """Rows of `sql` on the published marts as `prodlens query --format json` gives them (in-process)."""
    con = connect(home.published)
    try:
        con.execute("set search_path = 'marts,main'")
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, (jsonable(v) for v in row), strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def snapshot(db: Path, marts: tuple[str, ...] = ANALYTICS_MARTS) -> Snapshot:
    """Every row of each mart (`name` in schema marts, or `schema.name`), without build-metadata columns,
    in a stable order."""
    con = connect(db)
    try:
        result: Snapshot = {}
        for mart in marts:
            schema, _, table = mart.rpartition(".")
            columns = [
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema or "marts", table],
                ).fetchall()
                if row[0] not in METADATA_COLUMNS | RUN_COLUMNS.get(table, set())
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            result[mart] = (
                columns,
                con.execute(
                    f"select {select} from {mart if schema else 'marts.' + mart} order by all"
                ).fetchall(),
            )
        return result
    finally:
        con.close()


def same_value(a: Any, b: Any) -> bool:
    """Equal, with floats compared to 1e-9 relative (sums may add the same terms in another order)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, Decimal | float) and isinstance(b, Decimal | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def differences(left: Snapshot, right: Snapshot) -> list[str]:
    """Human-readable differences between two snapshots (empty when they agree)."""
    problems: list[str] = []
    for mart, (columns, rows) in left.items():
        other_columns, other_rows = right[mart]
        if columns != other_columns:
            problems.append(f"{mart}: columns {columns} != {other_columns}")
            continue
        if len(rows) != len(other_rows):
            problems.append(f"{mart}: {len(rows)} rows != {len(other_rows)} rows")
            continue
        for a, b in zip(rows, other_rows, strict=True):
            bad = [c for c, x, y in zip(columns, a, b, strict=True) if not same_value(x, y)]
            if bad:
                problems.append(f"{mart}: row {a[:4]}... differs in {bad}")
                break
    return problems


@dataclass
class SampleBuild:
    home: Home
    last_day_of_batch_a: Any
    rebuilt_after_batch_b: dict[str, tuple[int, Any]]
    incremental: Snapshot
    full_refresh: Snapshot
    # how many of the three incremental builds priced rows that sessions still holds
    pricing_runs: int

    @property
    def published(self) -> Path:
        return self.home.published


def build(home: Home, *extra: str) -> None:
    prodlens("build", "--", "--vars", DBT_VARS, *ANALYTICS_SUBGRAPH, *extra, home=home)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    home = Home(tmp_path_factory.mktemp("analytics-sample") / "home")
    last_day_a = None
    rebuilt: dict[str, tuple[int, Any]] = {}
    for number, batch in enumerate(BATCHES):
        prodlens("load", "traces", *map(str, batch), home=home)
        build(home, *NO_TESTS)
        con = connect(home.published)
        if number == 0:
            last_day_a = con.execute("select max(event_date) from marts.daily_session_metrics").fetchone()[0]
        if number == 1:
            # how many builds wrote the rows, and the first day the second build rewrote
            for mart in INCREMENTAL_MARTS:
                day, where = FIRST_DAY_REWRITTEN[mart]
                rebuilt[mart] = con.execute(
                    f"select count(distinct created_at), min({day}) filter (where created_at = "
                    f"(select max(created_at) from marts.{mart})) from marts.{mart} where {where}"
                ).fetchone()
        con.close()
    incremental = {**snapshot(home.published), **snapshot(home.warehouse, REQUEST_TABLES)}
    con = connect(home.warehouse)
    pricing_runs = con.execute("select count(distinct created_at) from marts.sessions").fetchone()[0]
    con.close()
    # from scratch, with every test of these models (unit tests, data tests, the singular tests)
    build(home, "--full-refresh")
    return SampleBuild(
        home=home,
        last_day_of_batch_a=last_day_a,
        rebuilt_after_batch_b=rebuilt,
        incremental=incremental,
        full_refresh={**snapshot(home.published), **snapshot(home.warehouse, REQUEST_TABLES)},
        pricing_runs=pricing_runs,
    )

"""`prodlens run` end to end on the bundled sample logs plus recent traces, and GitHub (the GitHub
tests' fake server on 127.0.0.1), twice:

1. a first run: load both sources, build (sessions and the daily/hourly/ROI aggregates), publish,
   export, freshness;
2. a second run with `retention_days = 40` (everything in the sample logs is older), while a reader
   process loops `prodlens query` and another holds the published file open.

Checked: summary, runs.log, etl_runs, status, the Parquet layout and the `../` tenant refused, every
query of the loop succeeding, the open reader keeping its old version, the purge of old raw and
session rows, expired records not reloaded, and every aggregate unchanged by the purge.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from prodlens.home import Home
from prodlens.run.marts import is_aggregate
from prodlens.run.retention import horizon
from tests.conftest import prodlens
from tests.github.conftest import TOKEN, make_server
from tests.run.harness import REPO_ROOT, record

AGGREGATES = [
    "daily_session_metrics",
    "cost_aggregations",
    "cost_by_tag",
    "provider_performance",
    "usage_analytics",
    "developer_daily_usage",
    "customer_roi_snapshots",
    "report_daily_figures",
]
# The marts this test checks, without dbt's data and unit tests (they have their own suites): keeps the
# two full runs affordable in the default test run.
BUILD_ARGS = [
    "--select",
    "+sessions",
    "+rejected_traces",
    "+pull_requests",
    *(f"+{m}" for m in AGGREGATES),
    "--exclude",
    "resource_type:test",
    "resource_type:unit_test",
]
RETENTION_DAYS = 40
# Lineage columns that say when a row was (re)computed, not what it measures.
BOOKKEEPING = {"created_at", "source_loaded_at"}
HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = lambda: con.execute("select count(*) from marts.sessions").fetchone()[0]
print(count(), flush=True)
sys.stdin.readline()
print(count(), flush=True)
"""


@dataclass
class Scenario:
    home: Home
    config: Path
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess | None = None
    aggregates_before: dict[str, list[tuple]] = field(default_factory=dict)
    aggregates_after: dict[str, list[tuple]] = field(default_factory=dict)
    sessions_before: int = 0
    queries: list[subprocess.CompletedProcess] = field(default_factory=list)
    holder_counts: tuple[int, int] = (0, 0)
    status_text: str = ""
    status_json: dict[str, Any] = field(default_factory=dict)
    recent: int = 0


def config_text(traces: list[Path], *, retention_days: int, freshness: bool) -> str:
    return f"""
retention_days = {retention_days}

[traces]
paths = {json.dumps([str(p) for p in traces])}

[github]
repos = ["acme/web", "acme/api"]
since = "2025-09-01"

[build]
args = {json.dumps(BUILD_ARGS)}

[freshness]
enabled = {str(freshness).lower()}
"""


def write_recent(path: Path) -> int:
    """Traces of the last 30 days (inside the retention window), two tenants, and one record whose
    tenant id would escape the Parquet folder (dead-lettered as `invalid tenant id`). Returns the number
    of records that load."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    lines = []
    for day in range(1, 31):
        for i in range(3):
            when = now - timedelta(days=day, hours=i)
            lines.append(json.dumps(record(f"recent-{day}-{i}", when, tenant="acme" if i else "globex")))
    lines.append(json.dumps(record("escape-1", now - timedelta(days=2), tenant="../escape")))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return len(lines) - 1


def aggregates(home: Home) -> dict[str, list[tuple]]:
    with duckdb.connect(str(home.published), read_only=True) as con:
        marts = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
            if is_aggregate(t)
        ]
        result = {}
        for mart in marts:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'marts' "
                    "and table_name = ? order by ordinal_position",
                    [mart],
                ).fetchall()
                if c not in BOOKKEEPING
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            result[mart] = sorted(
                _rounded(r) for r in con.execute(f'select {select} from marts."{mart}"').fetchall()
            )
        return result


def _rounded(row: tuple) -> tuple:
    """Row values comparable across builds: floats to 9 significant digits (sums of doubles may be
    added up in another order by another thread)."""
    out = []
    for v in row:
        if isinstance(v, float):
            out.append(None if math.isnan(v) else float(f"{v:.9g}"))
        elif isinstance(v, dict | list):
            out.append(json.dumps(v, sort_keys=True, default=str))
        else:
            out.append(v)
    return tuple(out)


def run_cli(home: Home, config: Path) -> subprocess.CompletedProcess:
    return prodlens("run", "--config", str(config), "--progress", "log", home=home, check=False)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with make_server() as server, pytest.MonkeyPatch.context() as env:
        env.setenv("GITHUB_API_URL", server.url)
        env.setenv("GITHUB_TOKEN", TOKEN)
        env.setenv("PRODLENS_GITHUB_WAIT_SCALE", "0")
        yield _scenario(tmp_path_factory)


def _scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("e2e")
    home = Home(root / "home")
    recent = root / "traces" / "recent.jsonl"
    count = write_recent(recent)
    sample = REPO_ROOT / "sample_data" / "litellm"
    config = root / "prodlens.toml"
    config.write_text(config_text([sample, recent.parent], retention_days=0, freshness=True))
    first = run_cli(home, config)
    s = Scenario(home, config, first, recent=count)
    if first.returncode != 0:
        return s
    s.aggregates_before = aggregates(home)
    s.sessions_before = len(
        json.loads(prodlens("query", "select 1 from sessions", "--format", "json", home=home).stdout)
    )
    s.status_text = prodlens("status", home=home).stdout
    s.status_json = json.loads(prodlens("status", "--format", "json", home=home).stdout)

    # the second run: retention on, one expired record added, readers busy meanwhile
    old = datetime.now(UTC) - timedelta(days=200)
    (recent.parent / "late.jsonl").write_text(json.dumps(record("expired-1", old)) + "\n")
    config.write_text(config_text([sample, recent.parent], retention_days=RETENTION_DAYS, freshness=False))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(home.published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert holder.stdout is not None and holder.stdin is not None
    held_before = int(holder.stdout.readline())
    env = {**os.environ, "PRODLENS_HOME": str(home.root)}
    run = subprocess.Popen(
        [sys.executable, "-m", "prodlens.cli", "run", "--config", str(config), "--progress", "log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    while run.poll() is None:
        s.queries.append(
            prodlens(
                "query", "select count(*) as n from sessions", "--format", "json", home=home, check=False
            )
        )
        time.sleep(0.5)
    out, err = run.communicate()
    s.second = subprocess.CompletedProcess(run.args, run.returncode, out, err)
    holder.stdin.write("\n")
    holder.stdin.flush()
    s.holder_counts = (held_before, int(holder.stdout.readline()))
    holder.wait(timeout=60)
    if run.returncode == 0:
        s.aggregates_after = aggregates(home)
    return s


def test_first_run_succeeds_and_is_recorded(scenario: Scenario) -> None:
    first = scenario.first
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("prodlens run: ok in ")
    for step in ("load", "retention", "build", "publish", "export", "freshness"):
        assert any(line.startswith(f"  {step:<10} ") for line in lines), step
    assert "traces: 2369 lines read, 2362 loaded, 1 duplicates, 6 dead-lettered" in first.stdout
    assert "prodlens run: build: started" in first.stderr  # plain log lines when not on a terminal
    entries = [json.loads(line) for line in scenario.home.runs_log.read_text().splitlines()]
    run_entries = [e for e in entries if e["job"] == "run"]
    assert run_entries[0]["status"] == "success" and run_entries[0]["details"]["exit_code"] == 0
    assert set(run_entries[0]["details"]["steps"]) == {
        "load",
        "retention",
        "build",
        "publish",
        "export",
        "freshness",
    }
    with duckdb.connect(str(scenario.home.warehouse), read_only=True) as con:
        jobs = con.execute("select job, status from raw.etl_runs order by id").fetchall()
    assert ("run", "success") in jobs and ("load-traces", "success") in jobs


def test_github_is_loaded_by_the_run(scenario: Scenario) -> None:
    assert "github acme/web: " in scenario.first.stdout and "github acme/api: " in scenario.first.stdout
    assert TOKEN not in scenario.first.stdout + scenario.first.stderr
    second = scenario.second
    assert second is not None and "github acme/web: " in second.stdout
    with duckdb.connect(str(scenario.home.published), read_only=True) as con:
        assert con.execute("select count(*) from marts.pull_requests").fetchone()[0] > 0


def test_freshness_is_reported(scenario: Scenario) -> None:
    sources = {s["source"]: s for s in scenario.status_json["freshness"]}
    assert sources["litellm.litellm_requests"]["status"] == "pass"
    assert sources["github.pull_requests"]["status"] == "pass"
    assert sources["litellm.litellm_requests"]["warn_after_hours"] == 24
    assert "litellm.litellm_requests: pass" in scenario.first.stdout


def test_status(scenario: Scenario) -> None:
    text = scenario.status_text
    assert "running     no" in text
    assert "last run    " in text and ": success" in text
    assert "loaded      traces: " in text
    assert "freshness   litellm.litellm_requests: pass" in text
    assert f"published   {scenario.home.published}, " in text and " old (published " in text
    assert "marts.sessions" in text and "marts.daily_session_metrics" in text
    status = scenario.status_json
    assert status["published"]["marts"]["sessions"] == scenario.sessions_before
    assert 0 <= status["published"]["age_seconds"] < 3600
    assert status["last_run"]["exit_code"] == 0 and status["running_pid"] is None


def test_parquet_exports_and_refused_tenant(scenario: Scenario) -> None:
    parquet = scenario.home.parquet
    assert list(parquet.glob("owner=acme/repo=web/date=*/data_0.parquet"))
    assert (parquet / "_aggregates" / "daily_session_metrics.parquet").exists()
    assert list(parquet.glob("tenant=acme/owner=*/repo=*/date=*/*.parquet"))
    assert (parquet / "tenant=globex" / "_aggregates" / "daily_session_metrics.parquet").exists()
    # a tenant id that would escape the folder never gets that far: the loader dead-letters the record
    dead = json.loads(
        prodlens(
            "query",
            "select reason, tenant_id from rejected_traces where reason = 'invalid tenant id'",
            "--format",
            "json",
            home=scenario.home,
        ).stdout
    )
    assert dead == [{"reason": "invalid tenant id", "tenant_id": "default"}]
    assert "escape" not in scenario.first.stdout
    root = scenario.home.root.parent
    assert not [p for p in root.rglob("*") if "escape" in p.name]


def test_readers_never_blocked_by_a_run(scenario: Scenario) -> None:
    second = scenario.second
    assert second is not None and second.returncode == 0, (second.stdout + second.stderr) if second else ""
    assert len(scenario.queries) >= 3, "the reader loop should have queried several times during the run"
    failed = [q.stderr for q in scenario.queries if q.returncode != 0]
    assert not failed, failed[:3]
    counts = {json.loads(q.stdout)[0]["n"] for q in scenario.queries}
    assert counts <= {scenario.sessions_before, scenario.recent}, counts  # old or new, never a mix
    assert scenario.holder_counts == (scenario.sessions_before, scenario.sessions_before)


def test_retention_purges_old_rows_and_skips_expired_records(scenario: Scenario) -> None:
    second = scenario.second
    assert second is not None and second.returncode == 0
    assert "1 expired" in second.stdout
    cut = horizon(RETENTION_DAYS)
    home = scenario.home
    oldest = json.loads(
        prodlens(
            "query", "select min(timestamp) as t, count(*) as n from sessions", "--format", "json", home=home
        ).stdout
    )[0]
    assert datetime.fromisoformat(oldest["t"]) >= cut
    assert oldest["n"] == scenario.recent  # the sample logs (2025) are all older than the horizon
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        assert (
            con.execute("select count(*) from raw.litellm_requests where timestamp < ?", [cut]).fetchone()[0]
            == 0
        )
        assert (
            con.execute(
                "select count(*) from raw.litellm_requests where request_id = 'expired-1'"
            ).fetchone()[0]
            == 0
        )
    dates = {p.name.removeprefix("date=") for p in home.parquet.glob("owner=*/repo=*/date=*")}
    assert dates and min(dates) >= cut.date().isoformat()


def test_the_same_aggregate_marts_after_the_purge(scenario: Scenario) -> None:
    before, after = scenario.aggregates_before, scenario.aggregates_after
    assert set(AGGREGATES) <= set(before), sorted(before)
    assert set(after) == set(before)
    with duckdb.connect() as con:
        exported = con.execute(
            f"select count(*) from read_parquet('{scenario.home.parquet}/_aggregates/daily_session_metrics.parquet')"
        ).fetchone()[0]
    assert exported == len(before["daily_session_metrics"])


@pytest.mark.parametrize("mart", AGGREGATES)
def test_aggregates_are_unchanged_by_the_purge(scenario: Scenario, mart: str) -> None:
    before, after = scenario.aggregates_before.get(mart), scenario.aggregates_after.get(mart)
    assert before, f"{mart} is empty or missing before the purge"
    assert after == before, f"{mart} changed after the purge"


def test_a_full_refresh_of_the_aggregates_is_refused_after_a_purge(scenario: Scenario) -> None:
    """A full refresh would rebuild the permanent aggregates from the purged requests: refused, with
    the reason and the way out, and the aggregate is left as it was."""
    home = scenario.home
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        purges = con.execute("select count(*), max(horizon) from raw.retention_purges").fetchone()
        before = con.execute("select count(*), min(event_date) from marts.daily_session_metrics").fetchone()
    assert purges[0] >= 1 and purges[1] == horizon(RETENTION_DAYS)  # the purge left its record
    result = prodlens(
        "build", "--", "--select", "daily_session_metrics", "--full-refresh", home=home, check=False
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "daily_session_metrics: --full-refresh refused: retention has purged old requests" in output
    assert "allow_full_refresh_after_purge: true" in output
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        after = con.execute("select count(*), min(event_date) from marts.daily_session_metrics").fetchone()
    assert after == before and before[1] < horizon(RETENTION_DAYS).date()

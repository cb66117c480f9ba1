"""Smaller parts of `prodlens run`: progress output, freshness results, retention, the GitHub step."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

import prodlens.run.steps as steps
from loaders.litellm.normalize import Counts
from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.run.config import GithubConfig, RunConfig
from prodlens.run.freshness import parse_results
from prodlens.run.progress import Reporter, format_progress
from prodlens.run.retention import check_retention, horizon, minimum_retention_days, purge
from prodlens.run.steps import Outcome, RunContext


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal() -> None:
    stream = FakeTTY()
    reporter = Reporter("auto", stream)
    assert reporter.bar
    with reporter.load_progress("traces", 4) as progress:
        progress.update(Counts(read=120_000, files=2), 4)
    out = stream.getvalue()
    assert "\r\x1b[K" in out and "traces [############------------] 2/4 files  120,000 lines" in out
    assert "rows/s" in out and out.endswith("\n")


def test_plain_log_lines_otherwise() -> None:
    stream = io.StringIO()
    reporter = Reporter("auto", stream)
    assert not reporter.bar
    reporter.log("build: started")
    with reporter.load_progress("traces", 3) as progress:
        progress.update(Counts(read=10, files=1), 3)  # less than LOG_EVERY seconds: no line
    line = stream.getvalue()
    assert "\r" not in line and line.count("\n") == 1
    assert line.endswith(" prodlens run: build: started\n") and line[:4].isdigit() and "T" in line[:20]
    assert (
        format_progress("traces", 1, 3, 5000, 2.0, bar=False)
        == "traces: 1/3 files  5,000 lines  2,500 rows/s  0:02"
    )
    quiet = io.StringIO()
    Reporter("quiet", quiet).log("nothing")
    assert quiet.getvalue() == ""


def test_freshness_results() -> None:
    doc = {
        "results": [
            {
                "unique_id": "source.prodlens.litellm.litellm_requests",
                "status": "warn",
                "max_loaded_at": "2026-01-01T00:00:00+00:00",
                "max_loaded_at_time_ago_in_s": 30 * 3600,
                "criteria": {
                    "warn_after": {"count": 24, "period": "hour"},
                    "error_after": {"count": 3, "period": "day"},
                },
            },
            {"unique_id": "source.prodlens.github.pull_requests", "status": "runtime error"},
            {  # a table without rows: dbt takes max() of nothing as 0001-01-01 and calls it an error
                "unique_id": "source.prodlens.litellm.litellm_rejects",
                "status": "error",
                "max_loaded_at": "0001-01-01T00:00:00+00:00",
                "max_loaded_at_time_ago_in_s": 63930916541.8,
                "criteria": {"warn_after": {"count": 24, "period": "hour"}},
            },
        ]
    }
    github, rejects, traces = parse_results(doc)
    assert (
        rejects.status == "empty"
        and not rejects.stale
        and rejects.describe() == "litellm.litellm_rejects: empty"
    )
    assert github.source == "github.pull_requests" and github.status == "not loaded" and not github.stale
    assert traces.stale and (traces.age_hours, traces.warn_after_hours, traces.error_after_hours) == (
        30.0,
        24,
        72,
    )
    assert traces.describe() == "litellm.litellm_requests: warn (last load 30.0 h ago; warn 24 h, error 72 h)"


def test_horizon_is_midnight_utc() -> None:
    now = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    assert horizon(40, now) == datetime(2026, 1, 29, tzinfo=UTC)


def test_retention_must_outlast_the_aggregates_look_back(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text(
        "vars:\n  analytics_lookback_days: 5\n  roi_baseline_window_days: 30\n"
    )
    assert minimum_retention_days(tmp_path) == 36
    assert minimum_retention_days() >= 2  # the real project
    check_retention(0)
    check_retention(minimum_retention_days())
    with pytest.raises(UserError, match="too short"):
        check_retention(minimum_retention_days() - 1)


def test_purge_deletes_old_raw_and_row_level_rows_only(home: Home) -> None:
    home.ensure()
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(
            "create schema raw; create schema staging; create schema intermediate; create schema marts"
        )
        days = "select timestamptz '2026-01-01 12:00:00+00' + to_days(range::int) as ts from range(10)"
        con.execute(f'create table raw.litellm_requests as select ts as "timestamp" from ({days})')
        con.execute(f"create table raw.litellm_rejects as select ts as ingested_at from ({days})")
        con.execute(f'create table marts.sessions as select ts as "timestamp" from ({days})')
        con.execute(f'create table staging.stg_litellm__requests as select ts as "timestamp" from ({days})')
        con.execute(
            f"create table marts.daily_session_metrics as select ts::date as event_date from ({days})"
        )
        con.execute("create view marts.routing_decisions as select * from marts.sessions")  # views: skipped
    deleted = purge(home, datetime(2026, 1, 5, tzinfo=UTC))
    assert deleted == {
        "raw.litellm_requests": 4,
        "raw.litellm_rejects": 4,
        "staging.stg_litellm__requests": 4,
        "marts.sessions": 4,
    }
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.sessions").fetchone()[0] == 6
        assert con.execute("select count(*) from marts.daily_session_metrics").fetchone()[0] == 10


class _Repo:
    def __init__(self, repo: str, ok: bool) -> None:
        self.repo, self.ok, self.rows_loaded = repo, ok, 3 if ok else 0

    def line(self) -> str:
        return f"github {self.repo}: " + (
            "2 requests (1 answered 304 Not Modified), 3 rows loaded"
            if self.ok
            else "repository not found (404)"
        )

    def to_json(self) -> dict:
        return {"repo": self.repo, "status": "loaded" if self.ok else "failed"}


class _Load:
    def __init__(self, repos: list[_Repo]) -> None:
        self.repos = repos
        self.rows_loaded = sum(r.rows_loaded for r in repos)
        self.failed = [r for r in repos if not r.ok]
        self.stop = None  # no rate-limit stop (tests/run/test_cli.py covers one end to end)


def test_github_step_calls_load_github(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple] = []

    def fake(home_: Home, repos: list[str], since: date | None) -> _Load:
        seen.append((home_, repos, since))
        return _Load([_Repo(r, ok=r != "acme/gone") for r in repos])

    monkeypatch.setattr("prodlens.ingest.github.load_github", fake)
    ctx = RunContext(
        home, RunConfig(github=GithubConfig(repos=("acme/web",), since="2025-01-01")), Reporter("quiet")
    )
    outcome = Outcome(line="")
    assert steps._load_github(ctx, outcome) == [
        "github acme/web: 2 requests (1 answered 304 Not Modified), 3 rows loaded"
    ]
    assert seen == [(home, ["acme/web"], date(2025, 1, 1))] and outcome.rows == 3
    assert json.dumps(outcome.details["github"]) == '[{"repo": "acme/web", "status": "loaded"}]'
    ctx = RunContext(home, RunConfig(github=GithubConfig(repos=("acme/web", "acme/gone"))), Reporter("quiet"))
    with pytest.raises(UserError, match="acme/gone: repository not found"):
        steps._load_github(ctx, Outcome(line=""))
    assert seen[-1][2] is None

"""The GitHub marts end to end: traces and three GitHub runs through the CLI, one `prodlens build`, and
assertions on the published marts.

Scenario (fixtures/github, `--since 2025-09-01`, token required by the fake GitHub):
  run 1  loads acme/web and acme/api; PR acme/web#4 is closed, not merged;
  run 2  nothing changed upstream: every request is conditional and answered 304;
  (between runs: #4 is reopened, then merged; a commit lands)
  run 3  loads the change; then `prodlens build` runs dbt for the GitHub models and publishes.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from prodlens.cli import main
from prodlens.demo.github_replay import Seen
from prodlens.home import Home
from tests.github.conftest import FIXTURES, TOKEN, Outcome, apply_update, make_server, point_env_at, raw_rows

SINCE = ["--since", "2025-09-01"]
REPOS = ["--repo", "acme/web", "--repo", "acme/api"]


@dataclass
class Scenario:
    home: Home
    outputs: dict[str, Outcome]
    second_run_seen: list[Seen]
    pr4_before: list[tuple]

    def marts(self, sql: str) -> list[dict[str, Any]]:
        con = duckdb.connect(str(self.home.published), read_only=True)
        try:
            con.execute("set TimeZone = 'UTC'")
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        finally:
            con.close()


def run(*args: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Outcome(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    home = Home(tmp_path_factory.mktemp("github-marts") / "home")
    with pytest.MonkeyPatch.context() as mp, make_server() as server:
        mp.setenv("PRODLENS_HOME", str(home.root))
        mp.setenv("PRODLENS_DBT_THREADS", "8")
        point_env_at(mp, server)
        outputs = {"traces": run("load", "traces", str(FIXTURES / "traces.jsonl"))}
        outputs["run1"] = run("load", "github", *REPOS, *SINCE)
        pr4_before = raw_rows(
            home.warehouse, "select state, merged_at from raw.pull_requests where number = 4"
        )
        server.seen.clear()
        outputs["run2"] = run("load", "github", *REPOS, *SINCE)
        second_run_seen = list(server.seen)
        apply_update(server, "acme_web_reopen_merge.json")
        outputs["run3"] = run("load", "github", *REPOS, *SINCE)
        outputs["build"] = run("build", "--", "--select", "+tag:github")
    for name, outcome in outputs.items():
        assert outcome.code == 0, f"{name} failed:\n{outcome.out}\n{outcome.err}"
    return Scenario(home, outputs, second_run_seen, pr4_before)


def test_second_run_without_changes_costs_one_conditional_request_per_endpoint(scenario: Scenario) -> None:
    assert [(s.conditional, s.status) for s in scenario.second_run_seen] == [(True, 304)] * 6
    assert [p.split("?")[0] for p in (s.path for s in scenario.second_run_seen)] == [
        f"/repos/{repo}/{endpoint}"
        for repo in ("acme/web", "acme/api")
        for endpoint in ("pulls", "commits", "issues/events")
    ]
    assert "0 rows loaded" in scenario.outputs["run2"].out


def test_third_run_loads_only_the_change(scenario: Scenario) -> None:
    assert (
        scenario.outputs["run3"]
        .out.splitlines()[0]
        .endswith("5 rows loaded (pull_requests 1, commits 1, pr_events 3)")
    )


def test_pull_requests_mart(scenario: Scenario) -> None:
    rows = scenario.marts(
        "select repo_slug, number, state, author, merge_hours, is_bot, is_draft, reopened, developer_key "
        "from marts.pull_requests order by repo_slug, number"
    )
    assert [tuple(r.values()) for r in rows] == [
        ("acme/api", 1, "merged", "dave-dev", 12.0, False, False, False, "dave-dev"),
        ("acme/web", 1, "merged", "alice-gh", 30.5, False, False, False, "alice-gh"),
        ("acme/web", 2, "merged", "bob-gh", 4.0, False, False, False, "bob-gh"),
        ("acme/web", 3, "merged", "dependabot[bot]", 1.0, True, False, False, "dependabot[bot]"),
        ("acme/web", 4, "merged", "carol", 56.0, False, False, True, "carol"),
        ("acme/web", 5, "open", "dave-dev", None, False, True, False, "dave-dev"),
    ]  # #6-#8 were last updated before --since


def test_pull_request_closed_reopened_then_merged_between_runs_ends_in_latest_state(
    scenario: Scenario,
) -> None:
    assert scenario.pr4_before == [("closed", None)]
    (pr,) = scenario.marts("select * from marts.pull_requests where repo_slug = 'acme/web' and number = 4")
    assert pr["state"] == "merged" and pr["reopened"] is True and pr["reopen_count"] == 1
    assert pr["id"] == 880004
    assert pr["merged_at"] == datetime(2025, 10, 5, 18, 0, tzinfo=UTC)
    assert pr["closed_at"] == datetime(2025, 10, 5, 18, 0, tzinfo=UTC)
    assert pr["merge_hours"] == 56.0  # 2025-10-03 10:00 → 2025-10-05 18:00


def test_commits_mart(scenario: Scenario) -> None:
    rows = scenario.marts(
        "select repo_slug, author, strftime(\"timestamp\", '%m-%d %H:%M') as ts, author_login, is_bot, developer_key "
        'from marts.commits order by repo_slug, "timestamp"'
    )
    assert [tuple(r.values()) for r in rows] == [
        ("acme/api", "Dave Doe", "10-06 10:00", "dave-dev", False, "dave-dev"),
        ("acme/api", "Dave Doe", "10-06 20:00", "dave-dev", False, "dave-dev"),
        ("acme/web", "Alice Liddell", "10-01 10:00", "alice-gh", False, "alice-gh"),
        ("acme/web", "Renovate Bot", "10-02 03:00", "renovate-bot", True, "renovate-bot"),
        ("acme/web", "Bob Builder", "10-02 11:00", "bob-gh", False, "bob-gh"),
        ("acme/web", "Bob Builder", "10-02 11:30", "bob-gh", False, "bob-gh"),
        # rebased: the author date (timestamp) is 10-03, the committer date 10-05
        ("acme/web", "Carol Danvers", "10-03 09:00", "carol", False, "carol"),
        ("acme/web", "Alice Liddell", "10-03 15:00", "alice-gh", False, "alice-gh"),
        ("acme/web", "Bob Builder", "10-04 15:00", "bob-gh", False, "bob-gh"),
        # no GitHub account linked to the e-mail: attributed by keyed hash to the trace developer id
        ("acme/web", "Erin Example", "10-04 16:00", None, False, "erin@contractor.example"),
        ("acme/web", "Carol Danvers", "10-05 12:00", "carol", False, "carol"),
    ]
    hashes = scenario.marts("select count(*) as n, count(author_email_hash) as hashed from marts.commits")
    assert hashes == [{"n": 11, "hashed": 11}]


def test_daily_github_metrics(scenario: Scenario) -> None:
    rows = scenario.marts(
        "select repo_slug, event_date, merged_pr_count, commit_count, reopened_pr_count, avg_merge_hours, "
        "median_merge_hours from marts.daily_github_metrics order by repo_slug, event_date"
    )
    web = [tuple(r.values())[1:] for r in rows if r["repo_slug"] == "acme/web"]
    assert web[:6] == [
        (date(2025, 10, 1), 0, 1, 0, None, None),
        (
            date(2025, 10, 2),
            2,
            2,
            0,
            17.25,
            17.25,
        ),  # #1 30.5 h and #2 4 h; dependabot's #3 and renovate left out
        (date(2025, 10, 3), 0, 2, 0, None, None),
        (date(2025, 10, 4), 0, 2, 0, None, None),
        (date(2025, 10, 5), 1, 1, 1, 56.0, 56.0),  # #4 reopened and merged
        (date(2025, 10, 6), 0, 0, 0, None, None),
    ]
    # a continuous spine up to the day of the last sync (today), zeros on quiet days
    today = datetime.now(UTC).date()
    assert [r[0] for r in web] == [
        date(2025, 10, 1) + timedelta(days=n) for n in range((today - date(2025, 10, 1)).days + 1)
    ]
    assert all(r[1:] == (0, 0, 0, None, None) for r in web[5:])
    api = [tuple(r.values())[1:] for r in rows if r["repo_slug"] == "acme/api"]
    assert api[0] == (date(2025, 10, 6), 1, 2, 0, 12.0, 12.0)
    assert api[-1][0] == today


def test_developer_identity_map(scenario: Scenario) -> None:
    rows = scenario.marts(
        "select developer_key, developer_id, github_login, match_method, is_bot "
        "from marts.developer_identity_map order by developer_key"
    )
    assert [tuple(r.values()) for r in rows] == [
        ("alice-gh", "alice@acme.dev", "alice-gh", "seed", False),
        ("bob-gh", "bob@acme.dev", "bob-gh", "email_hash", False),  # commits as bob@acme.dev and Bob@Acme.dev
        ("carol", "carol", "carol", "login", False),
        ("dave-dev", "dave@acme.dev", "dave-dev", "seed", False),
        ("dependabot[bot]", None, "dependabot[bot]", None, True),
        ("erin@contractor.example", "erin@contractor.example", None, None, False),  # no GitHub account linked
        ("frank@acme.dev", "frank@acme.dev", None, None, False),
        ("renovate-bot", None, "renovate-bot", None, True),
        ("shared@acme.dev", "shared@acme.dev", None, None, False),  # one e-mail, two accounts: no guess
    ]


def test_etag_state_mart(scenario: Scenario) -> None:
    rows = scenario.marts(
        "select repo_slug, resource, credential, endpoint, etag, last_status, last_synced "
        "from marts.etag_state order by repo_slug, resource"
    )
    assert [(r["repo_slug"], r["resource"], r["last_status"]) for r in rows] == [
        ("acme/api", "commits", 304),
        ("acme/api", "pr_events", 304),
        ("acme/api", "pull_requests", 304),
        ("acme/web", "commits", 200),
        ("acme/web", "pr_events", 200),
        ("acme/web", "pull_requests", 200),
    ]
    assert len({r["credential"] for r in rows}) == 1 and rows[0]["credential"].startswith("token-")
    assert rows[3]["endpoint"].endswith("/repos/acme/web/commits?since=2025-10-05T17:30:00Z&per_page=100")
    assert all(r["etag"].startswith('W/"') for r in rows)
    assert all(datetime.now(UTC) - r["last_synced"] < timedelta(hours=1) for r in rows)


def test_every_run_is_recorded_in_etl_runs(scenario: Scenario) -> None:
    runs = raw_rows(
        scenario.home.warehouse,
        "select status, row_count from raw.etl_runs where job = 'load-github' order by started_at",
    )
    assert runs == [("success", 25), ("success", 0), ("success", 5)]
    assert raw_rows(
        scenario.home.warehouse, "select count(*) from raw.etl_runs where job = 'load-traces'"
    ) == [(1,)]


def test_token_is_absent_from_all_output_and_every_file_under_home(scenario: Scenario) -> None:
    for name, outcome in scenario.outputs.items():
        assert TOKEN not in outcome.out + outcome.err, name
    files = [p for p in Path(scenario.home.root).rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"warehouse.duckdb", "prodlens.duckdb", "runs.log", "hash.key"} <= names
    assert any("dlt" in p.parts for p in files) and any("dbt" in p.parts for p in files)
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), f"token found in {path}"

"""`prodlens load github` end to end against the fake GitHub, asserting on raw tables and requests seen.

The marts (after `prodlens build`) are checked in test_marts.py; these tests need no dbt run.
"""

from __future__ import annotations

import json
import stat

import pytest

from prodlens.cli import main
from prodlens.demo.github_replay import Fault, ReplayServer, RepoData
from prodlens.home import Home
from prodlens.ingest.identity import email_hash
from tests.github.conftest import load_github, raw_rows

pytestmark = pytest.mark.usefixtures("github")


def test_first_run_pages_until_the_cursor_and_prints_one_line_per_repo(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = load_github(capsys, "acme/web", "acme/api")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "github acme/web: 13 requests (0 answered 304 Not Modified), 20 rows loaded "
        "(pull_requests 5, commits 8, pr_events 7)",
        "github acme/api: 4 requests (0 answered 304 Not Modified), 5 rows loaded "
        "(pull_requests 1, commits 2, pr_events 2)",
    ]
    paths = [s.path for s in github.seen]
    # pull requests: page 3 holds #6 (updated 2025-08-02, before --since) so page 4 is never asked
    assert "/repositories/500001/pulls?state=all&sort=updated&direction=desc&per_page=100&page=3" in paths
    assert not any("pulls" in p and "page=4" in p for p in paths)
    # commits: the cursor moved, so the new `since` URL is asked once more in the same run
    assert "/repos/acme/web/commits?since=2025-10-05T17:00:00Z&per_page=100" in paths
    numbers = raw_rows(
        home.warehouse, "select number from raw.pull_requests where repo_slug = 'acme/web' order by 1"
    )
    assert [n for (n,) in numbers] == [1, 2, 3, 4, 5]
    events = raw_rows(
        home.warehouse, "select id, event, pr_number from raw.pr_events where repo_slug = 'acme/web'"
    )
    assert sorted(events) == [
        (70001, "closed", 3),
        (70002, "merged", 3),
        (70003, "merged", 2),
        (70004, "closed", 2),
        (70005, "merged", 1),
        (70006, "closed", 1),
        (70008, "closed", 4),
    ]  # 70007 is an event on a plain issue; 6000x are older than --since


def test_second_run_without_changes_makes_only_conditional_requests_answered_304(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_github(capsys, "acme/web", "acme/api").code == 0
    github.seen.clear()
    result = load_github(capsys, "acme/web", "acme/api")
    assert result.code == 0, result.err
    assert [(s.conditional, s.status) for s in github.seen] == [(True, 304)] * 6
    assert result.out.splitlines() == [
        f"github {repo}: 3 requests (3 answered 304 Not Modified), 0 rows loaded "
        "(pull_requests 0, commits 0, pr_events 0)"
        for repo in ("acme/web", "acme/api")
    ]
    assert raw_rows(home.warehouse, "select count(*) from raw.pull_requests") == [(6,)]
    statuses = raw_rows(home.warehouse, "select distinct last_status from raw.etag_state")
    assert statuses == [(304,)]


def test_unknown_repo_and_bad_slug_fail_alone(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = load_github(capsys, "acme/nope", "not a slug", "acme/web")
    assert result.code == 2
    errors = result.err.splitlines()
    assert errors == [
        "prodlens: error: github acme/nope: repository not found (404): check the OWNER/NAME, "
        "or that GITHUB_TOKEN can read acme/nope",
        "prodlens: error: github not a slug: 'not a slug' is not an OWNER/NAME repository slug (for example acme/web)",
    ]
    assert result.out.startswith("github acme/web: ")
    assert raw_rows(home.warehouse, "select count(*) from raw.pull_requests") == [(5,)]
    asked = {s.path.split("?")[0].rsplit("/", 1)[0].removesuffix("/issues") for s in github.seen}
    assert asked == {"/repos/acme/nope", "/repos/acme/web", "/repositories/500001"}
    run = raw_rows(
        home.warehouse, "select status, row_count, details from raw.etl_runs where job = 'load-github'"
    )
    status, row_count, details = run[0]
    assert (status, row_count) == ("partial", 20)
    assert [r["status"] for r in json.loads(details)["repos"]] == ["failed", "failed", "loaded"]


def test_bad_token_gives_one_clear_line_and_stops_asking(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_revokedTokenValue000000000000000000")
    result = load_github(capsys, "acme/web", "acme/api")
    assert result.code == 2
    assert result.err.splitlines() == [
        "prodlens: error: github acme/web: GitHub rejected GITHUB_TOKEN (401 Bad credentials): set a valid "
        "token, or unset it for public repositories",
        "prodlens: error: github acme/api: not attempted: GitHub rejected GITHUB_TOKEN earlier in this run",
    ]
    assert [s.status for s in github.seen] == [401]
    assert "ghp_revoked" not in result.out + result.err


def test_public_repos_load_without_a_token(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    assert load_github(capsys, "acme/api").code == 0
    assert not any(s.authorized for s in github.seen)
    assert raw_rows(home.warehouse, "select distinct credential from raw.etag_state") == [("anonymous",)]


def test_500_then_success_loads_everything(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    github.faults.append(Fault("/repos/acme/api/pulls", 500, {}, {"message": "Server Error"}))
    result = load_github(capsys, "acme/api")
    assert result.code == 0, result.err
    assert "5 requests" in result.out and "5 rows loaded" in result.out
    assert [s.status for s in github.seen][:2] == [500, 200]


def test_primary_rate_limit_and_retry_after_are_waited_out(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    reset = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}  # already past: a 1 s wait
    github.faults.append(Fault("/repos/acme/api/commits", 403, reset, {"message": "API rate limit exceeded"}))
    github.faults.append(Fault("/repos/acme/api/issues/events", 429, {"retry-after": "3"}, {}))
    result = load_github(capsys, "acme/api")
    assert result.code == 0, result.err
    assert "5 rows loaded" in result.out
    assert [s.status for s in github.seen].count(200) == 4


def test_rate_limit_beyond_the_cap_stops_cleanly_and_keeps_what_loaded(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODLENS_GITHUB_MAX_WAIT_SECONDS", "600")
    far = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"}  # 2100-01-01
    github.faults.append(
        Fault("/repos/acme/web/issues/events", 403, far, {"message": "API rate limit exceeded"})
    )
    result = load_github(capsys, "acme/web", "acme/api")
    assert result.code == 75
    lines = result.err.splitlines()
    assert lines[0].startswith(
        "prodlens: error: github acme/web: stopped at pr_events by GitHub's rate limit; "
        "kept what loaded before it: pull_requests, commits"
    )
    assert lines[1] == (
        "prodlens: error: github acme/api: not attempted: stopped by GitHub's rate limit earlier in this run"
    )
    assert "Run the same command again after 2100-01-01T00:00:01Z" in lines[2]
    assert raw_rows(home.warehouse, "select count(*) from raw.pull_requests") == [(5,)]
    assert raw_rows(home.warehouse, "select count(*) from raw.commits") == [(8,)]
    assert raw_rows(home.warehouse, "select count(*) from raw.pr_events") == [(0,)]  # created, empty
    status = raw_rows(home.warehouse, "select status, row_count from raw.etl_runs")
    assert status == [("partial", 13)]
    # later, with the limit reset: pulls and commits are answered 304, events load from where they were
    github.seen.clear()
    result = load_github(capsys, "acme/web")
    assert result.code == 0, result.err
    assert "7 rows loaded (pull_requests 0, commits 0, pr_events 7)" in result.out
    assert [(s.path.split("?")[0], s.status) for s in github.seen][:2] == [
        ("/repos/acme/web/pulls", 304),
        ("/repos/acme/web/commits", 304),
    ]


def test_commit_emails_are_stored_only_as_keyed_hashes(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_github(capsys, "acme/web").code == 0
    key_file = home.root / "hash.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip().encode()
    hashes = dict(raw_rows(home.warehouse, "select author_name, author_email_hash from raw.commits"))
    assert hashes["Erin Example"] == email_hash(key, "erin@contractor.example")
    # "Bob@Acme.dev" and "bob@acme.dev" hash alike
    bob = raw_rows(
        home.warehouse, "select distinct author_email_hash from raw.commits where author_name = 'Bob Builder'"
    )
    assert len(bob) == 2 and (email_hash(key, "bob@acme.dev"),) in bob  # the other is shared@acme.dev
    for path in home.root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for address in (b"erin@contractor.example", b"Bob@Acme.dev", b"shared@acme.dev"):
                assert address not in data, f"{address!r} found in {path}"


def test_hash_key_from_environment(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODLENS_HASH_KEY", "a-shared-key-for-several-homes")
    assert load_github(capsys, "acme/web").code == 0
    assert not (home.root / "hash.key").exists()
    erin = raw_rows(
        home.warehouse, "select author_email_hash from raw.commits where author_name = 'Erin Example'"
    )
    assert erin == [(email_hash(b"a-shared-key-for-several-homes", "erin@contractor.example"),)]


def test_command_line_validation(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        load_github(capsys, "acme/web", since="2025-13-01")
    assert info.value.code == 2
    assert "expected a date as YYYY-MM-DD, got '2025-13-01'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["load", "github"])
    assert "--repo" in capsys.readouterr().err
    assert github.seen == []


def test_empty_repository_loads_nothing_and_still_creates_the_tables(
    home: Home, github: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    github.repos["acme/empty"] = RepoData(repo={"id": 500003, "full_name": "acme/empty"})
    github.faults.append(Fault("/repos/acme/empty/commits", 409, {}, {"message": "Git Repository is empty."}))
    result = load_github(capsys, "acme/empty", "ACME/Empty")  # the same repository twice: loaded once
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "github acme/empty: 3 requests (0 answered 304 Not Modified), 0 rows loaded "
        "(pull_requests 0, commits 0, pr_events 0)"
    ]
    counts = raw_rows(
        home.warehouse,
        "select (select count(*) from raw.pull_requests), (select count(*) from raw.commits), "
        "(select count(*) from raw.pr_events), (select count(*) from raw.etag_state)",
    )
    assert counts == [(0, 0, 0, 2)]  # no ETag for the commits answer that was a 409

"""`prodlens run` from the command line: step-named failures with their exit codes, one line each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prodlens.demo.github_replay import Fault
from prodlens.home import Home
from tests.conftest import prodlens, query
from tests.github.conftest import TOKEN, make_server
from tests.run.harness import Book, write_config


def test_nothing_configured(home: Home, tmp_path: Path) -> None:
    result = prodlens(
        "run", "--config", str(write_config(home, "retention_days = 0\n")), home=home, check=False
    )
    assert result.returncode == 2
    assert "nothing to run: configure [traces] paths, [github] repos or [spendlogs] enabled" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failed_load_names_its_step(home: Home, tmp_path: Path) -> None:
    config = write_config(home, f'[traces]\npaths = ["{tmp_path / "missing"}"]\n')
    result = prodlens("run", "--config", str(config), home=home, check=False)
    assert result.returncode == 10
    assert result.stdout.startswith("prodlens run: FAILED at step load (exit 10)")
    assert (
        f"prodlens run: error: step load failed (exit 10): traces: {tmp_path / 'missing'}: no such file"
        in result.stderr
    )
    entry = json.loads(home.runs_log.read_text().splitlines()[-1])
    assert entry["job"] == "run" and entry["status"] == "failed" and entry["details"]["failed_step"] == "load"
    assert not home.published.exists()


def test_a_failed_build_names_its_step_and_publishes_nothing(home: Home, tmp_path: Path) -> None:
    book = Book(tmp_path / "traces")
    book.add_file(good=5, duplicates=0, bad=1)
    config = write_config(
        home, f'[traces]\npaths = ["{book.folder}"]\n[build]\nargs = ["--target", "nope"]\n'
    )
    result = prodlens("run", "--config", str(config), home=home, check=False)
    assert result.returncode == 13, result.stdout + result.stderr
    assert "load       traces: 6 lines read, 5 loaded, 0 duplicates, 1 dead-lettered" in result.stdout
    assert "prodlens run: error: step build failed (exit 13): dbt build failed" in result.stderr
    assert not home.published.exists() and not home.parquet.exists()


def test_a_github_rate_limit_stop_builds_publishes_and_exits_17(home: Home, tmp_path: Path) -> None:
    """GitHub's rate limit is not a failure: what loaded is built and published, the run says the GitHub
    load is incomplete and exits 17 (not the run lock's 75), and the next run resumes it."""
    book = Book(tmp_path / "traces")
    book.add_file(good=5, duplicates=0, bad=0)
    build = [
        "--select",
        "+sessions",
        "+pull_requests",
        "--exclude",
        "resource_type:test",
        "resource_type:unit_test",
    ]
    config = write_config(
        home,
        f'[traces]\npaths = ["{book.folder}"]\n[github]\nrepos = ["acme/web"]\nsince = "2025-09-01"\n'
        f"[build]\nargs = {json.dumps(build)}\n",
    )
    far = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"}  # 2100-01-01
    with make_server() as server:
        server.faults.append(
            Fault("/repos/acme/web/issues/events", 403, far, {"message": "API rate limit exceeded"})
        )
        env = {
            "GITHUB_API_URL": server.url,
            "GITHUB_TOKEN": TOKEN,
            "PRODLENS_GITHUB_WAIT_SCALE": "0",
            "PRODLENS_GITHUB_MAX_WAIT_SECONDS": "600",
        }
        result = prodlens("run", "--config", str(config), home=home, env=env, check=False)
    assert result.returncode == 17, result.stdout + result.stderr
    assert result.stdout.startswith("prodlens run: PARTIAL (exit 17) in "), result.stdout
    assert (
        "GitHub's rate limit stopped the GitHub load until 2100-01-01T00:00:01Z: acme/web is incomplete; "
        "the next run resumes there" in result.stdout
    )
    assert "prodlens run: warning: GitHub's rate limit stopped" in result.stderr
    # no dead letters and no PR events yet: empty tables, not stale sources
    assert "github.pr_events: empty" in result.stdout and "litellm.litellm_rejects: empty" in result.stdout
    assert "stale source" not in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    # the steps after load ran: what loaded (traces, pull requests, commits) is published
    published = query(
        home, "select (select count(*) from sessions) as s, (select count(*) from pull_requests) as p"
    )
    assert published == [{"s": 5, "p": 5}]
    entry = json.loads(home.runs_log.read_text().splitlines()[-1])
    assert (entry["job"], entry["status"], entry["details"]["exit_code"]) == ("run", "partial", 17)
    assert entry["details"]["failed_step"] is None


def test_a_full_disk_is_one_line_not_a_traceback(
    home: Home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Any command that meets a full disk outside a run's steps (its lock file, a loader's record) ends
    with one line naming the disk, not a traceback."""
    import errno

    import duckdb

    import prodlens.cli.status as status
    from prodlens.cli import main

    monkeypatch.setenv("PRODLENS_HOME", str(home.root))
    for exc in (
        OSError(errno.ENOSPC, "No space left on device", str(home.root / "run.lock")),
        duckdb.IOException("IO Error: Could not write to file: No space left on device\nmore"),
    ):

        def fail(args: object, exc: BaseException = exc) -> int:
            raise exc

        monkeypatch.setattr(status, "_status", fail)
        assert main(["status"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert (
            len(err) == 1
            and err[0].startswith("prodlens: error: the disk is full (")
            and str(home.root) in err[0]
        )

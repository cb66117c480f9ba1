"""A fake GitHub on 127.0.0.1 for the loader tests, driven by the JSON fixtures under fixtures/github.

The server (prodlens.demo.github_replay, http.server in a thread) sorts and pages the fixtures as GitHub does,
puts `/repositories/{id}/...` URLs in its Link headers, answers If-None-Match with 304, sends
x-ratelimit-* headers, 404s unknown repositories and 401s unknown tokens; tests script faults
(403/429/5xx) with `server.faults`. Pages hold 2 items so every endpoint paginates.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from prodlens.cli import main
from prodlens.demo.github_replay import ReplayServer, RepoData, read_recording

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "ghp_prodlensTestToken0123456789abcdefXYZ"
PAGE_SIZE = 2
_RECORDING = read_recording(FIXTURES / "github")


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def make_server() -> ReplayServer:
    return ReplayServer(copy.deepcopy(_RECORDING), page_size=PAGE_SIZE, valid_tokens={TOKEN})


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReplayServer]:
    """A running fake GitHub; GITHUB_API_URL and GITHUB_TOKEN point the loader at it, waits scaled to 0."""
    with make_server() as server:
        point_env_at(monkeypatch, server)
        yield server


def point_env_at(monkeypatch: pytest.MonkeyPatch, server: ReplayServer) -> None:
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("PRODLENS_GITHUB_WAIT_SCALE", "0")
    monkeypatch.delenv("PRODLENS_GITHUB_MAX_WAIT_SECONDS", raising=False)
    monkeypatch.delenv("PRODLENS_HASH_KEY", raising=False)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    """Run `prodlens ARGS` in-process; returns exit code and captured output."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def load_github(capsys: pytest.CaptureFixture[str], *repos: str, since: str = "2025-09-01") -> Outcome:
    args = ["load", "github"]
    for repo in repos:
        args += ["--repo", repo]
    return cli(capsys, *args, "--since", since)


def apply_update(server: ReplayServer, name: str) -> None:
    """Change the fake GitHub's data as a fixture under fixtures/updates describes (replace by id/sha, add)."""
    update = json.loads((FIXTURES / "updates" / name).read_text())
    data: RepoData = server.repos[update["repo"]]
    with server.lock:
        for endpoint, key in (("pulls", "id"), ("commits", "sha"), ("issue_events", "id")):
            items = getattr(data, endpoint)
            for new in update.get(endpoint, []):
                items[:] = [item for item in items if item[key] != new[key]] + [new]


def raw_rows(warehouse: Path, sql: str) -> list[tuple]:
    # not read_only: an in-process dbt run may still hold the file open read-write, and DuckDB refuses
    # a second connection with a different configuration
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()

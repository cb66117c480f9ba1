"""`prodlens load github`: one dlt pipeline run per repository, a summary line each, one etl_runs row.

Repositories are isolated: a bad slug, a 404 or a failure in one repository does not stop the others.
Two conditions stop the run early, because every later request would fail the same way: GitHub
rejecting the token (401) and a rate-limit wait beyond the cap. Either way, what was loaded is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from loaders.github import RESOURCES, RepoSync, github_repository
from loaders.github.client import (
    BadCredentials,
    Clock,
    GitHubClient,
    NotFound,
    RateLimitStop,
    Settings,
    SettingsError,
    SystemClock,
    WaitBudget,
    redact,
)
from prodlens.errors import UserError, as_user_error
from prodlens.home import Home
from prodlens.ingest.identity import credential_id, hash_key, refresh_developer_email_hashes
from prodlens.ingest.tables import ensure_raw_tables
from prodlens.names import check_repo_slug
from prodlens.pipeline import make_pipeline, run_pipeline
from prodlens.runlog import now, record_run

JOB = "load-github"
DEFAULT_LOOKBACK_DAYS = 90


def pipeline_name(slug: str) -> str:
    """One dlt pipeline (and so one set of cursors and ETags) per repository."""
    readable = re.sub(r"[^a-z0-9_]+", "_", slug)[:60]
    return f"github_{readable}_{hashlib.sha1(slug.encode()).hexdigest()[:8]}"


@dataclass
class RepoResult:
    """What one repository's run did; `line()` is the summary line the CLI prints."""

    repo: str
    requests: int = 0
    not_modified: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    status: str = "loaded"  # loaded | failed | stopped | skipped
    error: str | None = None
    completed: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(self.rows.values())

    @property
    def ok(self) -> bool:
        return self.status == "loaded"

    def line(self) -> str:
        counts = ", ".join(f"{name} {self.rows.get(name, 0)}" for name in RESOURCES)
        work = (
            f"{self.requests} request{'s' if self.requests != 1 else ''} "
            f"({self.not_modified} answered 304 Not Modified), {self.rows_loaded} rows loaded ({counts})"
        )
        if self.status == "loaded":
            return f"github {self.repo}: {work}"
        if self.status == "skipped" or (not self.completed and not self.rows_loaded):
            return f"github {self.repo}: {self.error}"
        kept = f"; kept what loaded before it: {', '.join(self.completed)}" if self.completed else ""
        return f"github {self.repo}: {self.error}{kept} ({work})"

    def to_json(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "status": self.status,
            "requests": self.requests,
            "not_modified": self.not_modified,
            "rows": self.rows,
            "error": self.error,
        }


@dataclass
class GitHubLoad:
    repos: list[RepoResult]
    stop: RateLimitStop | None = None

    @property
    def rows_loaded(self) -> int:
        return sum(r.rows_loaded for r in self.repos)

    @property
    def failed(self) -> list[RepoResult]:
        return [r for r in self.repos if not r.ok]


def default_since(today: date | None = None) -> date:
    return (today or datetime.now(UTC).date()) - timedelta(days=DEFAULT_LOOKBACK_DAYS)


def load_github(
    home: Home,
    repos: list[str],
    since: date | None = None,
    *,
    settings: Settings | None = None,
    clock: Clock | None = None,
) -> GitHubLoad:
    """Load each repository's pull requests, commits and PR events into raw.*; never raises for a
    per-repository failure (see the results), only for problems of the warehouse itself."""
    with as_user_error(SettingsError):
        settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    started = now()
    home.ensure()
    key = hash_key(home)
    credential = credential_id(key, settings.token)
    budget = WaitBudget(settings.max_wait_seconds)
    start = (since or default_since()).strftime("%Y-%m-%dT00:00:00Z")
    run = GitHubLoad(repos=[])
    stop_reason: str | None = None
    seen: set[str] = set()
    try:
        for raw_slug in repos:
            try:
                slug = check_repo_slug(raw_slug, where=None)
            except UserError as exc:
                run.repos.append(RepoResult(repo=raw_slug, status="failed", error=str(exc)))
                continue
            if slug in seen:
                continue
            seen.add(slug)
            if stop_reason is not None:
                run.repos.append(
                    RepoResult(repo=slug, status="skipped", error=f"not attempted: {stop_reason}")
                )
                continue
            with as_user_error(SettingsError):
                client = GitHubClient(settings, budget=budget, clock=clock)
            try:
                result, failure = _load_repo(home, client, slug, start, credential, key, clock)
            finally:
                client.close()
            run.repos.append(result)
            if isinstance(failure, RateLimitStop):
                run.stop = failure
                stop_reason = "stopped by GitHub's rate limit earlier in this run"
            elif isinstance(failure, BadCredentials):
                stop_reason = "GitHub rejected GITHUB_TOKEN earlier in this run"
        refresh_developer_email_hashes(home, key)
        ensure_raw_tables(home)  # the trace tables too, so that `dbt build` runs on a GitHub-only home
    except BaseException as exc:
        _record(home, started, run, settings, start, status="failed", error=redact(str(exc), settings.token))
        raise
    loaded_any = run.rows_loaded > 0 or len(run.failed) < len(run.repos)
    status = "success" if not run.failed else "partial" if loaded_any else "failed"
    _record(home, started, run, settings, start, status=status)
    return run


def _load_repo(
    home: Home, client: GitHubClient, slug: str, start: str, credential: str, key: bytes, clock: Clock
) -> tuple[RepoResult, Exception | None]:
    sync = RepoSync(client, slug, credential=credential, email_key=key, clock=clock)
    pipeline = make_pipeline(home, pipeline_name(slug))
    result = RepoResult(repo=slug)
    failure: Exception | None = None
    try:
        with _fifo_extraction():
            run_pipeline(pipeline, github_repository(sync, since=start), home)
        normalized = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
        counts = normalized.row_counts if normalized else {}
        result.rows = {name: int(counts.get(name, 0)) for name in RESOURCES}
    except UserError:
        raise  # the warehouse is locked or a load package is stuck: every repository would fail
    except Exception as exc:  # isolate this repository; the message must not carry the token
        failure = exc
        result.status = "failed"
        text = redact(str(exc), client.settings.token).strip().splitlines() or [type(exc).__name__]
        result.error = f"unexpected error: {text[0][:300]}"
    if sync.failure is not None:
        failure = sync.failure
        result.status = "stopped" if isinstance(sync.failure, RateLimitStop) else "failed"
        result.error = _describe(sync.failure, sync.failed_resource, slug, client.settings.token)
    result.requests = client.stats.requests
    result.not_modified = client.stats.not_modified
    result.completed = list(sync.completed)
    return result, failure


def _describe(failure: Exception, resource: str | None, repo: str, token: str | None) -> str:
    if isinstance(failure, RateLimitStop):
        return f"stopped at {resource} by GitHub's rate limit"
    if isinstance(failure, NotFound) and resource == RESOURCES[0]:
        return f"repository not found (404): check the OWNER/NAME, or that GITHUB_TOKEN can read {repo}"
    if isinstance(failure, BadCredentials):
        return str(failure)
    return redact(str(failure), token) + (f" (while loading {resource})" if resource else "")


@contextlib.contextmanager
def _fifo_extraction() -> Iterator[None]:
    """Extract resources one after another, in order, so etag_state sees every endpoint's outcome."""
    name = "EXTRACT__NEXT_ITEM_MODE"
    previous = os.environ.get(name)
    os.environ[name] = "fifo"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _record(
    home: Home,
    started: datetime,
    run: GitHubLoad,
    settings: Settings,
    start: str,
    *,
    status: str,
    error: str | None = None,
) -> None:
    details: dict[str, Any] = {
        "api_url": settings.api_url,
        "initial_since": start,
        "authenticated": bool(settings.token),
        "repos": [r.to_json() for r in run.repos],
    }
    if run.stop is not None:
        details["retry_after"] = datetime.fromtimestamp(run.stop.retry_at, UTC).isoformat()
    if error:
        details["error"] = error
    try:
        record_run(
            home, job=JOB, started_at=started, row_count=run.rows_loaded, details=details, status=status
        )
    except UserError:
        if error is None:
            raise

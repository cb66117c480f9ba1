"""The dlt source for one GitHub repository: pull_requests, commits, pr_events and etag_state.

Cursors are `dlt.sources.incremental` values; ETags live in each resource's dlt state, keyed by
credential and by the exact URL asked. Both advance only when the load that carries them commits.

Each endpoint is fetched completely before any of its rows is yielded. If a request fails (404, 401,
a rate-limit wait beyond the cap, 5xx after retries), that endpoint yields nothing, so neither its
cursor nor its ETag moves; the endpoints already fetched still load, and the later ones are skipped.
Data loaded is therefore always consistent with the state stored beside it.

The etag_state resource must run after the others: the loader extracts in `fifo` order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import dlt
from dlt.common.schema.typing import TMergeDispositionDict
from dlt.extract import DltResource

from loaders.github.client import Clock, GitHubClient, GitHubError, Page, RateLimitStop, utc_iso
from loaders.github.rows import (
    COMMIT_COLUMNS,
    ETAG_STATE_COLUMNS,
    PR_EVENT_COLUMNS,
    PULL_REQUEST_COLUMNS,
    Row,
    commit_row,
    is_pull_request_event,
    pr_event_row,
    pull_request_row,
    utc,
)

MERGE: TMergeDispositionDict = {"disposition": "merge", "strategy": "delete-insert"}
PER_PAGE = 100
# After commits arrive, the commits URL moves to `since=<newest commit>`; asking it once more in the same
# run stores its ETag, so the next quiet run is answered 304. A few steps cover commits landing meanwhile.
MAX_SINCE_STEPS = 3
RESOURCES = ("pull_requests", "commits", "pr_events")


def pulls_url(base: str, repo: str) -> str:
    return f"{base}/repos/{repo}/pulls?state=all&sort=updated&direction=desc&per_page={PER_PAGE}"


def commits_url(base: str, repo: str, since: str | None) -> str:
    query = f"since={since}&per_page={PER_PAGE}" if since else f"per_page={PER_PAGE}"
    return f"{base}/repos/{repo}/commits?{query}"


def events_url(base: str, repo: str) -> str:
    return f"{base}/repos/{repo}/issues/events?per_page={PER_PAGE}"


class EtagBook:
    """The ETags of one resource (`{credential: {url: entry}}` in its dlt state). Entries recorded
    during a fetch are written only by `commit`, which keeps just the last URL asked."""

    def __init__(self, state: dict[str, Any], credential: str, synced_at: str) -> None:
        self.state = state
        self.credential = credential
        self.synced_at = synced_at
        self.last: tuple[str, dict[str, Any]] | None = None

    def etag(self, url: str) -> str | None:
        entry = self.state.get(self.credential, {}).get(url)
        return entry.get("etag") if entry else None

    def record(self, url: str, page: Page) -> None:
        old = self.state.get(self.credential, {}).get(url, {})
        self.last = (
            url,
            {
                "etag": page.etag or old.get("etag"),
                "last_modified": page.last_modified or old.get("last_modified"),
                "last_synced": self.synced_at,
                "last_status": 304 if page.not_modified else 200,
            },
        )

    def commit(self) -> tuple[str, dict[str, Any]] | None:
        if self.last is not None:
            url, entry = self.last
            self.state[self.credential] = {url: entry}
        return self.last


class RepoSync:
    """Fetches one repository's endpoints for the resources and remembers what happened."""

    def __init__(
        self, client: GitHubClient, repo: str, *, credential: str, email_key: bytes, clock: Clock
    ) -> None:
        self.client = client
        self.repo = repo
        self.credential = credential
        self.email_key = email_key
        self.synced_at = utc_iso(clock.now())
        self.failure: GitHubError | RateLimitStop | None = None
        self.failed_resource: str | None = None
        self.completed: list[str] = []
        self.etag_rows: list[Row] = []

    @property
    def base(self) -> str:
        return self.client.base

    # -- endpoints ---------------------------------------------------------------------------------

    def pull_requests(self, etags: dict[str, Any], start: str | None) -> list[Row]:
        def fetch(book: EtagBook) -> list[Row]:
            rows: list[Row] = []
            for page in self._pages(pulls_url(self.base, self.repo), book):
                page_rows = [pull_request_row(item, self.repo) for item in page.items]
                rows += page_rows
                if _reached(start, [row["updated_at"] for row in page_rows]):
                    break  # sorted by updated_at desc: everything further is older than the cursor
            return rows

        return self._endpoint("pull_requests", etags, fetch)

    def commits(self, etags: dict[str, Any], start: str | None) -> list[Row]:
        def fetch(book: EtagBook) -> list[Row]:
            rows: dict[str, Row] = {}
            since = start
            for _ in range(MAX_SINCE_STEPS):
                changed = False
                try:
                    for page in self._pages(commits_url(self.base, self.repo, since), book):
                        changed = changed or not page.not_modified
                        for item in page.items:
                            row = commit_row(item, self.repo, self.email_key)
                            rows[row["sha"]] = row
                except GitHubError as exc:
                    if exc.status != 409:  # 409 Conflict: "Git Repository is empty"
                        raise
                newest = max(
                    (row["committed_at"] for row in rows.values() if row["committed_at"]), default=None
                )
                if not changed or newest is None or (since is not None and newest <= since):
                    break
                since = newest
            return list(rows.values())

        return self._endpoint("commits", etags, fetch)

    def pr_events(self, etags: dict[str, Any], start: str | None) -> list[Row]:
        def fetch(book: EtagBook) -> list[Row]:
            rows: list[Row] = []
            for page in self._pages(events_url(self.base, self.repo), book):
                rows += [pr_event_row(item, self.repo) for item in page.items if is_pull_request_event(item)]
                if _reached(start, [utc(item.get("created_at")) for item in page.items]):
                    break  # newest first: the next pages hold only events older than the cursor
            return rows

        return self._endpoint("pr_events", etags, fetch)

    # -- plumbing ----------------------------------------------------------------------------------

    def _pages(self, url: str, book: EtagBook) -> Iterator[Page]:
        """Pages of `url`, conditional on the stored ETag; records the first page's validators."""
        first = True
        for page in self.client.pages(url, etag=book.etag(url)):
            if first:
                book.record(url, page)
                first = False
            yield page

    def _endpoint(
        self, resource: str, etags: dict[str, Any], fetch: Callable[[EtagBook], list[Row]]
    ) -> list[Row]:
        if self.failure is not None:
            return []
        book = EtagBook(etags, self.credential, self.synced_at)
        try:
            rows = fetch(book)
        except (GitHubError, RateLimitStop) as exc:
            self.failure = exc
            self.failed_resource = resource
            return []
        committed = book.commit()
        if committed is not None:
            url, entry = committed
            self.etag_rows.append(
                {
                    "repo_slug": self.repo,
                    "resource": resource,
                    "credential": self.credential,
                    "endpoint": url,
                    **entry,
                }
            )
        self.completed.append(resource)
        return rows


def _reached(start: str | None, cursors: list[str | None]) -> bool:
    """True once a page holds an item older than the stored cursor."""
    return start is not None and any(value is not None and value < start for value in cursors)


def _etags() -> dict[str, Any]:
    return dlt.current.resource_state().setdefault("etags", {})


def _emit(rows: list[Row]) -> Iterator[Any]:
    """The rows; or, the first time a resource has none, an empty table, so that every raw table exists
    once a repository was loaded (dbt source freshness and the staging models can rely on it)."""
    state = dlt.current.resource_state()
    if rows:
        state["materialized"] = True
        yield rows
    elif not state.get("materialized"):
        state["materialized"] = True
        yield dlt.mark.materialize_table_schema()


# The four tables: their keys and column hints, shared by the real resources and github_tables().
TABLES: dict[str, dict[str, Any]] = {
    "pull_requests": {"primary_key": "id", "columns": PULL_REQUEST_COLUMNS},
    "commits": {"primary_key": ("repo_slug", "sha"), "columns": COMMIT_COLUMNS},
    "pr_events": {"primary_key": "id", "columns": PR_EVENT_COLUMNS},
    "etag_state": {"primary_key": ("repo_slug", "resource", "credential"), "columns": ETAG_STATE_COLUMNS},
}


@dlt.source(name="github", max_table_nesting=0)
def github_repository(sync: RepoSync, since: str | None = None) -> Any:
    """One repository's pull requests, commits and PR events, plus the ETag bookkeeping.
    `since` (`YYYY-MM-DDTHH:MM:SSZ`) is where the cursors start on a repository's first load."""

    @dlt.resource(name="pull_requests", write_disposition=MERGE, **TABLES["pull_requests"])
    def pull_requests(
        updated_at: dlt.sources.incremental[str] = dlt.sources.incremental("updated_at", initial_value=since),
    ) -> Iterator[Any]:
        yield from _emit(sync.pull_requests(_etags(), updated_at.start_value))

    @dlt.resource(name="commits", write_disposition=MERGE, **TABLES["commits"])
    def commits(
        committed_at: dlt.sources.incremental[str] = dlt.sources.incremental(
            "committed_at", initial_value=since
        ),
    ) -> Iterator[Any]:
        yield from _emit(sync.commits(_etags(), committed_at.start_value))

    @dlt.resource(name="pr_events", write_disposition=MERGE, **TABLES["pr_events"])
    def pr_events(
        created_at: dlt.sources.incremental[str] = dlt.sources.incremental("created_at", initial_value=since),
    ) -> Iterator[Any]:
        yield from _emit(sync.pr_events(_etags(), created_at.start_value))

    @dlt.resource(name="etag_state", write_disposition=MERGE, **TABLES["etag_state"])
    def etag_state() -> Iterator[Any]:
        yield from _emit(sync.etag_rows)

    return pull_requests, commits, pr_events, etag_state


def _no_rows() -> Iterator[Any]:
    yield dlt.mark.materialize_table_schema()


@dlt.source(name="github", max_table_nesting=0)
def github_tables() -> list[DltResource]:
    """The four tables with no rows, created as a real load creates them (same keys, hints and dlt
    columns), for a warehouse that no GitHub load has reached yet."""
    return [
        dlt.resource(_no_rows, name=name, write_disposition=MERGE, **spec) for name, spec in TABLES.items()
    ]

"""A local stand-in for GitHub's REST API, serving recorded responses on 127.0.0.1.

It speaks the parts of the protocol the loader relies on: list endpoints sorted as GitHub sorts them,
`per_page`/`page` with `Link` headers pointing at `/repositories/{id}/...` (as github.com does, so a
client that builds page URLs itself fails), `since` on commits, weak ETags with `If-None-Match` → 304,
`x-ratelimit-*` headers, 404 for unknown repositories and 401 for tokens it does not know. Scripted
faults (`Fault`) let tests inject 403/429/5xx answers.

`prodlens demo` uses it to load the bundled sample offline; the tests use it as their fake GitHub.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

Json = dict[str, Any]
ENDPOINTS = ("pulls", "commits", "issues/events")
FILES = {"pulls": "pulls.json", "commits": "commits.json", "issues/events": "issue_events.json"}


@dataclass
class RepoData:
    """One repository: the `GET /repos/{owner}/{repo}` object and the items of each list endpoint."""

    repo: Json
    pulls: list[Json] = field(default_factory=list)
    commits: list[Json] = field(default_factory=list)
    issue_events: list[Json] = field(default_factory=list)

    @classmethod
    def from_dir(cls, folder: Path) -> RepoData:
        def read(name: str) -> Any:
            path = folder / name
            return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []

        return cls(
            repo=read("repo.json"),
            pulls=read(FILES["pulls"]),
            commits=read(FILES["commits"]),
            issue_events=read(FILES["issues/events"]),
        )

    def items(self, endpoint: str) -> list[Json]:
        return {"pulls": self.pulls, "commits": self.commits, "issues/events": self.issue_events}[endpoint]


def read_recording(root: Path) -> dict[str, RepoData]:
    """Every `OWNER/NAME/repo.json` folder under `root`, keyed by lower-case slug."""
    repos = {}
    for repo_file in sorted(root.glob("*/*/repo.json")):
        data = RepoData.from_dir(repo_file.parent)
        repos[str(data.repo["full_name"]).lower()] = data
    return repos


@dataclass
class Fault:
    """Answer the next `times` requests whose path contains `path_contains` with this response."""

    path_contains: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = field(default_factory=dict)
    times: int = 1


@dataclass(frozen=True)
class Seen:
    """One request the server received (the Authorization value itself is not kept)."""

    path: str
    conditional: bool
    status: int
    authorized: bool


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _sort_key(endpoint: str, item: Json) -> Any:
    if endpoint == "pulls":
        return item.get("updated_at") or ""
    if endpoint == "commits":
        return (item.get("commit", {}).get("committer", {}).get("date") or "", item.get("sha"))
    return (item.get("created_at") or "", item.get("id") or 0)


class ReplayServer:
    """`with ReplayServer(repos) as server:` serves on `server.url` until the block ends."""

    def __init__(
        self,
        repos: dict[str, RepoData],
        *,
        page_size: int = 100,
        valid_tokens: set[str] | None = None,
        rate_limit: int = 5000,
    ) -> None:
        self.repos = {slug.lower(): data for slug, data in repos.items()}
        self.page_size = page_size
        self.valid_tokens = valid_tokens
        self.rate_limit = rate_limit
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self._used = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ReplayServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="github-replay",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling --------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        auth = request.headers.get("Authorization")
        conditional = request.headers.get("If-None-Match") is not None
        with self.lock:
            status, headers, body = self._answer(
                parts.path, parts.query, auth, request.headers.get("If-None-Match")
            )
            self.seen.append(Seen(request.path, conditional, status, auth is not None))
        payload = b"" if status == 304 else json.dumps(body).encode("utf-8")
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        if status != 304:
            request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def _limits(self, authorized: bool) -> dict[str, str]:
        limit = self.rate_limit if authorized else 60
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(limit - self._used, 1)),
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-used": str(self._used),
            "x-ratelimit-resource": "core",
        }

    def _answer(
        self, path: str, query: str, auth: str | None, if_none_match: str | None
    ) -> tuple[int, dict[str, str], Any]:
        for fault in self.faults:
            if fault.times > 0 and fault.path_contains in f"{path}?{query}":
                fault.times -= 1
                self._used += 1
                return fault.status, dict(fault.headers), fault.body
        if auth is not None and self.valid_tokens is not None:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() not in {"bearer", "token"} or token not in self.valid_tokens:
                return (
                    401,
                    {},
                    {
                        "message": "Bad credentials",
                        "documentation_url": "https://docs.github.com/rest",
                        "status": "401",
                    },
                )
        found = self._route(path)
        if found is None:
            return (
                404,
                self._limits(auth is not None),
                {
                    "message": "Not Found",
                    "documentation_url": "https://docs.github.com/rest",
                    "status": "404",
                },
            )
        data, endpoint = found
        params = dict(parse_qsl(query, keep_blank_values=True))
        if endpoint == "":
            body: Any = data.repo
            items: list[Json] = []
            links: dict[str, str] = {}
        else:
            items = self._select(data, endpoint, params)
            per_page = max(1, min(int(params.get("per_page", "30")), 100, self.page_size))
            page = max(1, int(params.get("page", "1")))
            last = max(1, -(-len(items) // per_page))
            body = items[(page - 1) * per_page : page * per_page]
            links = self._links(data, endpoint, params, page, last)
        etag = (
            'W/"' + hashlib.sha256((auth or "").encode() + json.dumps(body).encode()).hexdigest()[:40] + '"'
        )
        headers = {**self._limits(auth is not None), "ETag": etag, "Vary": "Accept, Authorization"}
        if endpoint == "pulls" and items:
            newest = max(_parse_time(i.get("updated_at")) or datetime.min for i in items)
            headers["Last-Modified"] = format_datetime(newest, usegmt=True)
        if links:
            headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
        if if_none_match is not None and if_none_match == etag:
            return 304, headers, None
        self._used += 1
        return 200, headers, body

    def _route(self, path: str) -> tuple[RepoData, str] | None:
        segments = [s for s in path.split("/") if s]
        if len(segments) >= 3 and segments[0] == "repos":
            data = self.repos.get(f"{segments[1]}/{segments[2]}".lower())
            rest = "/".join(segments[3:])
        elif len(segments) >= 2 and segments[0] == "repositories":
            data = next((d for d in self.repos.values() if str(d.repo.get("id")) == segments[1]), None)
            rest = "/".join(segments[2:])
        else:
            return None
        if data is None or (rest and rest not in ENDPOINTS):
            return None
        return data, rest

    def _select(self, data: RepoData, endpoint: str, params: dict[str, str]) -> list[Json]:
        items = list(data.items(endpoint))
        if endpoint == "pulls" and params.get("state", "open") != "all":
            items = [i for i in items if i.get("state") == params.get("state", "open")]
        if endpoint == "commits" and params.get("since"):
            since = _parse_time(params["since"])
            items = [
                i
                for i in items
                if since is None or (_parse_time(i["commit"]["committer"]["date"]) or since) >= since
            ]
        descending = params.get("direction", "desc") == "desc" or endpoint != "pulls"
        return sorted(items, key=lambda i: _sort_key(endpoint, i), reverse=descending)

    def _links(
        self, data: RepoData, endpoint: str, params: dict[str, str], page: int, last: int
    ) -> dict[str, str]:
        def url(number: int) -> str:
            query = urlencode({**{k: v for k, v in params.items() if k != "page"}, "page": number}, safe=":")
            return f"{self.url}/repositories/{data.repo['id']}/{endpoint}?{query}"

        links = {}
        if page < last:
            links["next"] = url(page + 1)
            links["last"] = url(last)
        if page > 1:
            links["first"] = url(1)
            links["prev"] = url(page - 1)
        return links

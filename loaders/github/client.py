"""A small GitHub REST client: conditional requests, Link pagination, rate limits and retries.

Waiting follows GitHub's guidance for its REST API:
- `retry-after` present: wait that many seconds;
- 403/429 with `x-ratelimit-remaining: 0`: wait until `x-ratelimit-reset`, never retry before;
- 403/429 without those headers (a secondary limit): wait at least 60 s, doubling on each repeat;
- 5xx and connection errors: retry with exponential back-off, a few times.

Every wait is charged to a `WaitBudget` shared by the whole run. When a wait would take the run past
PRODLENS_GITHUB_MAX_WAIT_SECONDS, the client does not sleep: it raises `RateLimitStop`, which names the
time to retry. Waits are logical seconds; the clock sleeps them times PRODLENS_GITHUB_WAIT_SCALE, so
tests run the real logic without sleeping.

The token is only ever put in the Authorization header. Error messages are built from status codes and
GitHub's `message` field and are passed through `redact` before they leave this module.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "prodlens-github-loader/0.1"
SECONDARY_MIN_WAIT = 60.0
RETRY_BASE_WAIT = 1.0
PRIMARY_SLACK = 1.0


class SettingsError(ValueError):
    """A GitHub setting (environment variable) that cannot be used; the message names it and the fix."""


class Clock(Protocol):
    """Time source and sleeper; injected so tests control time."""

    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass(frozen=True)
class Settings:
    """Where and how to call GitHub. Build it with `Settings.from_env()`; the token never shows in repr."""

    api_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)
    wait_scale: float = 1.0
    max_wait_seconds: float = 900.0
    max_retries: int = 4
    timeout_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            api_url=check_api_url(env.get("GITHUB_API_URL") or DEFAULT_API_URL),
            token=(env.get("GITHUB_TOKEN") or "").strip() or None,
            wait_scale=_number(env, "PRODLENS_GITHUB_WAIT_SCALE", 1.0),
            max_wait_seconds=_number(env, "PRODLENS_GITHUB_MAX_WAIT_SECONDS", 900.0),
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise SettingsError(f"{name}={raw!r} is not a number >= 0")
    return value


def check_api_url(url: str) -> str:
    """Validate GITHUB_API_URL: an http(s) URL without credentials; returned without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SettingsError(f"GITHUB_API_URL={url!r} is not an http(s) URL such as https://api.github.com")
    if parts.username or parts.password:
        raise SettingsError("GITHUB_API_URL must not contain credentials; put the token in GITHUB_TOKEN")
    if parts.query or parts.fragment:
        raise SettingsError(f"GITHUB_API_URL={url!r} must not carry a query or fragment")
    return url.strip().rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` replaced."""
    if secret:
        text = text.replace(secret, "[token removed]")
    return text


def utc_iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GitHubError(Exception):
    """A request failed in a way retrying now will not fix. The message is safe to print."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(GitHubError):
    pass


class BadCredentials(GitHubError):
    pass


class Unavailable(GitHubError):
    """5xx answers or connection failures outlasted the retries."""


class RateLimitStop(Exception):
    """Waiting for GitHub's rate limit would exceed the configured cap. Loaded data is kept."""

    def __init__(self, message: str, retry_at: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at


@dataclass
class Stats:
    requests: int = 0
    not_modified: int = 0


class WaitBudget:
    """The total time one run may spend waiting; shared by the clients of all repositories."""

    def __init__(self, cap_seconds: float) -> None:
        self.cap = cap_seconds
        self.spent = 0.0

    def allows(self, seconds: float) -> bool:
        return self.spent + seconds <= self.cap

    def spend(self, seconds: float) -> None:
        self.spent += seconds


@dataclass
class Page:
    """One page of a list endpoint. `not_modified` pages carry no items."""

    url: str
    items: list[dict[str, Any]]
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None


class GitHubClient:
    """GET requests against one API base, with the waiting rules above. One client per repository keeps
    per-repository request counts in `stats`."""

    def __init__(
        self,
        settings: Settings,
        *,
        budget: WaitBudget | None = None,
        clock: Clock | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.base = check_api_url(settings.api_url)
        origin = urlsplit(self.base)
        self._origin = (origin.scheme, origin.netloc.lower())
        if settings.token and origin.scheme == "http" and not _is_loopback(origin.hostname or ""):
            raise SettingsError(
                f"refusing to send GITHUB_TOKEN over plain http to {origin.hostname}; use an https GITHUB_API_URL"
            )
        self.budget = budget or WaitBudget(settings.max_wait_seconds)
        self.clock = clock or SystemClock()
        self.session = session or requests.Session()
        self.stats = Stats()
        self._headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if settings.token:
            self._headers["Authorization"] = f"Bearer {settings.token}"

    # -- public API ---------------------------------------------------------------------------------

    def close(self) -> None:
        self.session.close()

    def pages(self, url: str, *, etag: str | None = None) -> Iterator[Page]:
        """Pages of a list endpoint, following `Link: rel="next"` exactly as given. The first request
        carries `If-None-Match` when `etag` is given; a 304 yields one empty `not_modified` page and
        stops. Stop iterating early to make no further requests."""
        response = self.get(url, etag=etag)
        if response.status_code == 304:
            yield Page(
                url,
                [],
                not_modified=True,
                etag=response.headers.get("ETag") or etag,
                last_modified=response.headers.get("Last-Modified"),
            )
            return
        while True:
            yield Page(
                url,
                self._items(response, url),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return
            url = next_url
            response = self.get(url)

    def get(self, url: str, *, etag: str | None = None) -> requests.Response:
        """One GET with retries and rate-limit waits. Returns 2xx and 304 responses; raises otherwise."""
        self._check_same_origin(url)
        headers = dict(self._headers)
        if etag:
            headers["If-None-Match"] = etag
        failures = 0
        secondary = 0
        while True:
            self.stats.requests += 1
            try:
                response = self.session.get(url, headers=headers, timeout=self.settings.timeout_seconds)
            except requests.RequestException as exc:
                failures += 1
                self._back_off(failures, f"cannot reach {self._where(url)} ({type(exc).__name__})")
                continue
            status = response.status_code
            if status == 304:
                self.stats.not_modified += 1
                return response
            if status in (403, 429):
                wait = self._rate_limit_wait(response, secondary)
                if wait is not None:
                    seconds, kind = wait
                    if kind == "secondary":
                        secondary += 1
                    self._wait_for_limit(seconds, kind, url)
                    continue
            if status >= 500:
                failures += 1
                self._back_off(failures, f"GitHub answered {status} for {self._where(url)}")
                continue
            if status < 400:
                return response
            raise self._client_error(response, url)

    # -- internals ----------------------------------------------------------------------------------

    def _items(self, response: requests.Response, url: str) -> list[dict[str, Any]]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, list):
            raise GitHubError(f"unexpected answer from {self._where(url)}: expected a JSON list")
        return body

    def _check_same_origin(self, url: str) -> None:
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != self._origin:
            raise GitHubError(
                f"refusing to follow a link to another host ({parts.scheme}://{parts.hostname})"
            )

    def _where(self, url: str) -> str:
        return redact(urlsplit(url).path, self.settings.token)

    def _rate_limit_wait(self, response: requests.Response, secondary: int) -> tuple[float, str] | None:
        """(seconds, kind) to wait for a rate-limited answer, or None when the 403 is not a limit."""
        headers = response.headers
        retry_after = _retry_after(headers.get("retry-after"), self.clock.now())
        if retry_after is not None:
            return retry_after, "retry-after"
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if remaining == "0" and reset is not None:
            try:
                return max(float(reset) - self.clock.now(), 0.0) + PRIMARY_SLACK, "primary"
            except ValueError:
                pass
        message = _message(response).lower()
        if response.status_code == 429 or remaining is None or "rate limit" in message or "abuse" in message:
            return SECONDARY_MIN_WAIT * (2**secondary), "secondary"
        return None  # a permission problem, not a limit

    def _wait_for_limit(self, seconds: float, kind: str, url: str) -> None:
        if not self.budget.allows(seconds):
            retry_at = self.clock.now() + seconds
            label = {
                "primary": "GitHub's rate limit for this token is used up",
                "retry-after": "GitHub asked to retry later (retry-after)",
                "secondary": "GitHub's secondary rate limit was hit",
            }[kind]
            raise RateLimitStop(
                f"{label} ({self._where(url)}): the next request is allowed at {utc_iso(retry_at)}, "
                f"{seconds:.0f} s away, which is beyond the wait cap (PRODLENS_GITHUB_MAX_WAIT_SECONDS="
                f"{self.budget.cap:g}, {self.budget.spent:.0f} s already spent). Stopped cleanly; what was "
                f"loaded is kept. Run the same command again after {utc_iso(retry_at)}",
                retry_at,
            )
        self._sleep(seconds)

    def _back_off(self, failures: int, reason: str) -> None:
        if failures > self.settings.max_retries:
            raise Unavailable(f"{reason}; gave up after {failures} attempts, try again later")
        seconds = RETRY_BASE_WAIT * (2 ** (failures - 1))
        if not self.budget.allows(seconds):
            raise Unavailable(f"{reason}; retrying would exceed PRODLENS_GITHUB_MAX_WAIT_SECONDS")
        self._sleep(seconds)

    def _sleep(self, seconds: float) -> None:
        self.budget.spend(seconds)
        self.clock.sleep(seconds * self.settings.wait_scale)

    def _client_error(self, response: requests.Response, url: str) -> GitHubError:
        status = response.status_code
        where = self._where(url)
        detail = redact(_message(response), self.settings.token)
        if status == 401:
            return BadCredentials(
                "GitHub rejected GITHUB_TOKEN (401 Bad credentials): set a valid token, or unset it for public "
                "repositories",
                status,
            )
        if status == 404:
            return NotFound(
                f"not found (404) at {where}: check the OWNER/NAME, or that GITHUB_TOKEN can read it", status
            )
        if status == 403:
            return GitHubError(
                f"access denied (403) at {where}: {detail or 'the token lacks permission'}", status
            )
        return GitHubError(f"GitHub answered {status} at {where}" + (f": {detail}" if detail else ""), status)


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:300] if message else ""


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a `retry-after` header given as seconds or as an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
    except (TypeError, ValueError, IndexError):
        return None

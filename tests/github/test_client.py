"""The HTTP client against the fake GitHub: pagination, ETags, rate limits, retries, the wait cap.

A fake clock records every wait instead of sleeping, so the tests check the waits GitHub asks for
(seconds until x-ratelimit-reset, retry-after, ≥60 s doubling for secondary limits) without waiting.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from loaders.github.client import (
    BadCredentials,
    GitHubClient,
    GitHubError,
    NotFound,
    RateLimitStop,
    Settings,
    SettingsError,
    Unavailable,
    WaitBudget,
)
from prodlens.demo.github_replay import Fault, ReplayServer
from tests.github.conftest import TOKEN, make_server

NOW = 1_760_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.t = NOW
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with make_server() as running:
        yield running


def client_for(
    server: ReplayServer, clock: FakeClock, *, cap: float = 900.0, token: str | None = TOKEN
) -> GitHubClient:
    settings = Settings(api_url=server.url, token=token, wait_scale=1.0, max_wait_seconds=cap)
    return GitHubClient(settings, budget=WaitBudget(cap), clock=clock)


def pulls(server: ReplayServer) -> str:
    return f"{server.url}/repos/acme/web/pulls?state=all&sort=updated&direction=desc&per_page=100"


def test_pages_follow_link_next_exactly(server: ReplayServer) -> None:
    client = client_for(server, FakeClock())
    pages = list(client.pages(pulls(server)))
    assert [len(p.items) for p in pages] == [2, 2, 2, 2]
    numbers = [item["number"] for page in pages for item in page.items]
    assert numbers == [5, 4, 1, 2, 3, 6, 7, 8]  # updated_at descending
    # page 2+ come from the Link header (GitHub's /repositories/{id} form), never built by the client
    assert [s.path for s in server.seen] == [
        "/repos/acme/web/pulls?state=all&sort=updated&direction=desc&per_page=100",
        *[
            f"/repositories/500001/pulls?state=all&sort=updated&direction=desc&per_page=100&page={n}"
            for n in (2, 3, 4)
        ],
    ]
    assert client.stats.requests == 4


def test_if_none_match_answered_304_stops_after_one_request(server: ReplayServer) -> None:
    client = client_for(server, FakeClock())
    first = next(client.pages(pulls(server)))
    assert first.etag and not first.not_modified
    server.seen.clear()
    pages = list(client.pages(pulls(server), etag=first.etag))
    assert len(pages) == 1 and pages[0].not_modified and pages[0].items == []
    assert [(s.status, s.conditional) for s in server.seen] == [(304, True)]
    assert client.stats.not_modified == 1


def test_primary_rate_limit_waits_until_reset_and_not_before(server: ReplayServer) -> None:
    clock = FakeClock()
    server.faults.append(
        Fault(
            "/pulls",
            403,
            {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(NOW) + 30),
            },
            {"message": "API rate limit exceeded for user ID 1."},
        )
    )
    response = client_for(server, clock).get(pulls(server))
    assert response.status_code == 200
    assert clock.sleeps == [31.0]  # until the reset, plus one second of slack; a single retry
    assert [s.status for s in server.seen] == [403, 200]


def test_429_retry_after_is_honoured(server: ReplayServer) -> None:
    clock = FakeClock()
    server.faults.append(Fault("/pulls", 429, {"retry-after": "7"}, {"message": "Too Many Requests"}))
    client_for(server, clock).get(pulls(server))
    assert clock.sleeps == [7.0]
    assert [s.status for s in server.seen] == [429, 200]


def test_secondary_limit_waits_at_least_60s_with_exponential_backoff(server: ReplayServer) -> None:
    clock = FakeClock()
    body = {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    }
    server.faults.append(Fault("/pulls", 403, {}, body, times=2))
    client_for(server, clock).get(pulls(server))
    assert clock.sleeps == [60.0, 120.0]
    assert [s.status for s in server.seen] == [403, 403, 200]


def test_500_then_success_retries_with_backoff(server: ReplayServer) -> None:
    clock = FakeClock()
    server.faults.append(Fault("/pulls", 500, {}, {"message": "Server Error"}, times=2))
    response = client_for(server, clock).get(pulls(server))
    assert response.status_code == 200
    assert clock.sleeps == [1.0, 2.0]
    assert [s.status for s in server.seen] == [500, 500, 200]


def test_persistent_5xx_gives_up_after_retries(server: ReplayServer) -> None:
    clock = FakeClock()
    server.faults.append(Fault("/pulls", 502, {}, {"message": "Bad Gateway"}, times=99))
    with pytest.raises(Unavailable, match="502"):
        client_for(server, clock).get(pulls(server))
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert len(server.seen) == 5


def test_connection_errors_retry_then_fail() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = FakeClock()
    client = GitHubClient(Settings(api_url=f"http://127.0.0.1:{port}", token=TOKEN), clock=clock)
    with pytest.raises(Unavailable, match="cannot reach") as info:
        client.get(f"http://127.0.0.1:{port}/repos/acme/web/pulls")
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert TOKEN not in str(info.value)


def test_wait_beyond_cap_stops_without_sleeping_and_says_when_to_retry(server: ReplayServer) -> None:
    clock = FakeClock()
    server.faults.append(
        Fault("/pulls", 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 3600)}, {})
    )
    with pytest.raises(RateLimitStop) as info:
        client_for(server, clock, cap=900).get(pulls(server))
    assert clock.sleeps == []
    assert info.value.retry_at == NOW + 3601
    assert "2025-10-09T09:53:21Z" in str(info.value)  # NOW + 3601 s, in UTC
    assert "PRODLENS_GITHUB_MAX_WAIT_SECONDS=900" in str(info.value)
    assert len(server.seen) == 1


def test_wait_budget_is_shared_by_the_whole_run(server: ReplayServer) -> None:
    clock = FakeClock()
    server.faults.append(Fault("/pulls", 429, {"retry-after": "50"}, {}, times=3))
    with pytest.raises(RateLimitStop):
        client_for(server, clock, cap=120).get(pulls(server))
    assert clock.sleeps == [50.0, 50.0]  # a third wait would pass the 120 s cap


def test_plain_403_is_a_permission_error_not_a_limit(server: ReplayServer) -> None:
    clock = FakeClock()
    server.faults.append(
        Fault(
            "/pulls",
            403,
            {"x-ratelimit-remaining": "4999"},
            {"message": "Resource not accessible by integration"},
        )
    )
    with pytest.raises(GitHubError, match=r"access denied \(403\).*not accessible"):
        client_for(server, clock).get(pulls(server))
    assert clock.sleeps == []


def test_404_and_401(server: ReplayServer) -> None:
    clock = FakeClock()
    with pytest.raises(NotFound):
        client_for(server, clock).get(f"{server.url}/repos/acme/nope/pulls")
    with pytest.raises(BadCredentials) as info:
        client_for(server, clock, token="ghp_wrong").get(pulls(server))
    assert "ghp_wrong" not in str(info.value)


def test_refuses_to_follow_links_to_another_host(server: ReplayServer) -> None:
    server.faults.append(
        Fault("/pulls", 200, {"Link": '<http://elsewhere.example/steal?page=2>; rel="next"'}, [])
    )
    client = client_for(server, FakeClock())
    with pytest.raises(GitHubError, match="another host"):
        list(client.pages(pulls(server)))


def test_token_header_sent_only_when_set(server: ReplayServer) -> None:
    client_for(server, FakeClock(), token=None).get(pulls(server))
    client_for(server, FakeClock()).get(pulls(server))
    assert [s.authorized for s in server.seen] == [False, True]


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
            "GITHUB_TOKEN": "t0k",
            "PRODLENS_GITHUB_WAIT_SCALE": "0",
            "PRODLENS_GITHUB_MAX_WAIT_SECONDS": "30",
        }
    )
    assert (settings.api_url, settings.wait_scale, settings.max_wait_seconds) == (
        "https://ghe.example.com/api/v3",
        0.0,
        30.0,
    )
    assert "t0k" not in repr(settings)
    assert Settings.from_env({}).api_url == "https://api.github.com"
    with pytest.raises(SettingsError, match="PRODLENS_GITHUB_WAIT_SCALE"):
        Settings.from_env({"PRODLENS_GITHUB_WAIT_SCALE": "fast"})
    with pytest.raises(SettingsError, match="credentials"):
        Settings.from_env({"GITHUB_API_URL": "https://user:secret@api.github.com"})
    with pytest.raises(SettingsError, match="plain http"):
        GitHubClient(Settings(api_url="http://ghe.example.com/api/v3", token="t0k"))

"""The bundled GitHub sample loads offline through the real loader (what `prodlens demo` calls)."""

from __future__ import annotations

import pytest

from prodlens.demo.github_sample import load_github_sample, sample_dir
from prodlens.home import Home
from tests.github.conftest import raw_rows


def test_sample_loads_both_repositories_offline(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_mustNeverBeSentToTheSampleServer")
    monkeypatch.setenv("GITHUB_API_URL", "https://api.github.invalid")  # never used by the sample
    summary = load_github_sample(home)
    assert [r.repo for r in summary.repos] == ["acme/api", "acme/web"]
    assert not summary.failed and summary.stop is None
    assert {r.repo: r.rows for r in summary.repos} == {
        "acme/api": {"pull_requests": 18, "commits": 25, "pr_events": 32},
        "acme/web": {"pull_requests": 22, "commits": 26, "pr_events": 42},
    }  # every recorded item, except one event on a plain issue per repository
    assert all(r.line().startswith(f"github {r.repo}: ") for r in summary.repos)
    credentials = raw_rows(
        home.warehouse, "select distinct credential, cast(last_synced as date) from raw.etag_state"
    )
    assert [(c, str(d)) for c, d in credentials] == [("anonymous", "2025-11-01")]  # the recording time
    bots = raw_rows(
        home.warehouse,
        "select distinct author_login from raw.pull_requests where author_type = 'Bot' "
        "union select distinct author_login from raw.commits where author_login = 'renovate-bot'",
    )
    assert sorted(b for (b,) in bots) == ["dependabot[bot]", "renovate-bot"]
    assert (sample_dir() / "acme" / "web" / "pulls.json").exists()

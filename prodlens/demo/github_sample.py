"""The bundled GitHub sample, loaded offline through the real loader.

`sample_data/github/OWNER/NAME/*.json` holds recorded answers of the three list endpoints (GitHub's
response shapes). They are served by the local replay server on 127.0.0.1 and loaded by `load_github`,
so the demo runs the same code path as a real load: requests, Link paging, ETags, dlt state, etl_runs.
No token is sent, whatever GITHUB_TOKEN says.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from loaders.github.client import Settings
from prodlens.demo.github_replay import ReplayServer, read_recording
from prodlens.home import Home
from prodlens.ingest.github import GitHubLoad, load_github
from prodlens.project import sample_data_dir

SAMPLE_SINCE = date(2025, 9, 1)
# The sample was recorded as of this time; it is used as the sync time so that the daily metrics' date
# spine ends with the recording rather than stretching to today.
RECORDED_AT = datetime(2025, 11, 1, tzinfo=UTC)
SAMPLE_PAGE_SIZE = 10  # small pages, so the sample exercises Link pagination


class _RecordingClock:
    def now(self) -> float:
        return RECORDED_AT.timestamp()

    def sleep(self, seconds: float) -> None:
        pass


def sample_dir() -> Path:
    return sample_data_dir() / "github"


def load_github_sample(home: Home) -> GitHubLoad:
    """Load the bundled sample repositories (acme/web, acme/api) into `home`; returns the run summary
    (print `result.line()` for each of `summary.repos`)."""
    recording = read_recording(sample_dir())
    with ReplayServer(recording, page_size=SAMPLE_PAGE_SIZE) as server:
        settings = Settings(api_url=server.url, token=None, wait_scale=0.0, max_wait_seconds=60.0)
        return load_github(home, sorted(recording), SAMPLE_SINCE, settings=settings, clock=_RecordingClock())

"""Fixtures of the report tests: the shared demo build and the three report files written from it."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from prodlens.report.writers import demo_target
from tests.report.demo_run import DemoRun, cli


@pytest.fixture(scope="session")
def db(demo: DemoRun) -> Iterator[duckdb.DuckDBPyConnection]:
    con = demo.connect()
    yield con
    con.close()


@dataclass(frozen=True)
class Reports:
    tenant: str
    repo: str
    since: date
    csv_rows: list[dict[str, str]]
    json: dict[str, Any]
    html: str
    folder: Path


@pytest.fixture(scope="session")
def reports(demo: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Reports:
    """The demo's tenant and repository over all their days, written as .csv, .json and .html."""
    tenant, repo, since = demo_target(demo.home)
    folder = tmp_path_factory.mktemp("reports")
    for ext in ("csv", "json", "html"):
        cli(
            "report", "--repo", repo, "--since", str(since), "--tenant", tenant,
            "--output", str(folder / f"report.{ext}"),
            home=demo.home, cwd=folder,
        )  # fmt: skip
    with (folder / "report.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return Reports(
        tenant=tenant,
        repo=repo,
        since=since,
        csv_rows=rows,
        json=json.loads((folder / "report.json").read_text()),
        html=(folder / "report.html").read_text(),
        folder=folder,
    )

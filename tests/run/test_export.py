"""Parquet exports: Hive layout, aggregates, per-tenant trees, refused partition values, re-exports."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from prodlens.home import Home
from prodlens.run.export import NULL_PARTITION, export_parquet, repo_partition, safe_partition_value

SESSIONS = [
    # tenant, repo, date, n
    ("acme", "acme/web", "2025-01-01", 3),
    ("acme", "acme/web", "2025-01-02", 2),
    ("acme", "acme/api", "2025-01-02", 1),
    ("acme", None, "2025-01-03", 2),
    ("globex", "globex/app", "2025-01-01", 4),
    ("../../escaped", "acme/web", "2025-01-01", 5),  # a tenant id straight from a proxy's metadata
    ("acme", "../evil", "2025-01-01", 6),  # a repo that never came through the loader's check
]


def make_published(home: Home, rows: list[tuple[str, str | None, str, int]] = SESSIONS) -> Path:
    home.ensure()
    path = home.root / "source.duckdb"
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.sessions (trace_hash varchar, tenant_id varchar, repo_slug varchar, "
            'event_date date, "timestamp" timestamptz, cost_usd double)'
        )
        n = 0
        for tenant, repo, day, count in rows:
            for _ in range(count):
                n += 1
                con.execute(
                    "insert into marts.sessions values (?, ?, ?, ?::date, ?::date + interval 1 hour, 0.5)",
                    [f"h{n:04d}", tenant, repo, day, day],
                )
        con.execute(
            "create table marts.daily_session_metrics as select tenant_id, event_date, count(*) as request_count "
            "from marts.sessions group by all"
        )
        con.execute(
            "create table marts.daily_github_metrics as select 'acme/web' as repo_slug, 3 as merged_pr_count"
        )
        con.execute("create table marts.rejected_traces as select 'x' as reject_id")
    return path


def read(pattern: Path, where: str = "true") -> int:
    with duckdb.connect() as con:
        return con.execute(
            f"select count(*) from read_parquet('{pattern}', hive_partitioning = true) where {where}"
        ).fetchone()[0]


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*.parquet")}


def test_layout_aggregates_and_tenant_trees(home: Home) -> None:
    result = export_parquet(home, make_published(home))
    out = home.parquet
    assert files(out) == {
        "repo=acme-web/date=2025-01-01/data_0.parquet",
        "repo=acme-web/date=2025-01-02/data_0.parquet",
        "repo=acme-api/date=2025-01-02/data_0.parquet",
        f"repo={NULL_PARTITION}/date=2025-01-03/data_0.parquet",
        "repo=globex-app/date=2025-01-01/data_0.parquet",
        "_aggregates/daily_session_metrics.parquet",
        "_aggregates/daily_github_metrics.parquet",
        "tenant=acme/repo=acme-web/date=2025-01-01/data_0.parquet",
        "tenant=acme/repo=acme-web/date=2025-01-02/data_0.parquet",
        "tenant=acme/repo=acme-api/date=2025-01-02/data_0.parquet",
        f"tenant=acme/repo={NULL_PARTITION}/date=2025-01-03/data_0.parquet",
        "tenant=acme/_aggregates/daily_session_metrics.parquet",
        "tenant=globex/repo=globex-app/date=2025-01-01/data_0.parquet",
        "tenant=globex/_aggregates/daily_session_metrics.parquet",
    }
    # DuckDB prunes and types the Hive partitions; the files keep repo_slug/event_date/tenant_id themselves
    sessions = out / "repo=*" / "date=*" / "*.parquet"
    assert read(sessions) == 3 + 2 + 1 + 2 + 4 + 5 == result.session_rows
    assert read(sessions, "repo = 'acme-web' and date = '2025-01-01'") == 3 + 5
    assert read(sessions, "repo is null") == 2  # Hive's null partition reads back as NULL
    assert read(out / "tenant=*" / "repo=*" / "date=*" / "*.parquet", "tenant = 'acme'") == 8
    assert read(out / "tenant=globex" / "repo=*" / "date=*" / "*.parquet") == 4
    assert (
        read(out / "tenant=acme" / "_aggregates" / "daily_session_metrics.parquet", "tenant_id <> 'acme'")
        == 0
    )
    assert result.tenants == ["acme", "globex"]
    assert sorted(result.aggregates) == ["daily_github_metrics", "daily_session_metrics"]


def test_partition_values_that_would_escape_are_refused(home: Home) -> None:
    result = export_parquet(home, make_published(home))
    assert result.refused == ["repo_slug '../evil' (6 rows)", "tenant_id '../../escaped' (5 rows)"]
    everything = {str(p.relative_to(home.root.parent)) for p in home.root.parent.rglob("*")}
    assert not [p for p in everything if "evil" in p or "escaped" in p]
    assert all(".." not in p for p in files(home.parquet))
    # the refused tenant's rows are still in the all-tenants tree (no folder is made from that tenant id)
    assert read(home.parquet / "repo=*" / "date=*" / "*.parquet", "tenant_id = '../../escaped'") == 5


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("acme", True),
        ("acme-web", True),
        ("org_42", True),
        ("a.b@c+d", True),
        ("2025-01-24", True),
        ("..", False),
        (".", False),
        ("../x", False),
        ("a/../b", False),
        ("a/b", False),
        ("a\\b", False),
        (".hidden", False),
        ("", False),
        ("x" * 201, False),
        ("a b", False),
        ("a\x00b", False),
        ("x..y", False),
    ],
)
def test_safe_partition_value(value: str, safe: bool) -> None:
    assert safe_partition_value(value) is safe


def test_repo_partition() -> None:
    assert repo_partition("acme/web") == "acme-web"
    assert repo_partition(None) is None
    for bad in ("../x", "acme/..", "/etc/passwd", "a/b/c", "a\\b/c"):
        with pytest.raises(ValueError):
            repo_partition(bad)


def test_reexport_keeps_unchanged_files_and_removes_vanished_partitions(home: Home) -> None:
    source = make_published(home)
    export_parquet(home, source)
    kept = home.parquet / "repo=globex-app" / "date=2025-01-01" / "data_0.parquet"
    mtime = kept.stat().st_mtime_ns
    again = export_parquet(home, source)
    assert again.written == 0 and again.removed == 0 and again.unchanged == len(files(home.parquet))
    assert kept.stat().st_mtime_ns == mtime
    # a retention purge removed 2025-01-01: its partitions go, the aggregates stay
    rows = [r for r in SESSIONS if r[2] != "2025-01-01"]
    with duckdb.connect(str(make_published(home, rows))) as con:
        con.execute(
            "create or replace table marts.daily_session_metrics as select 'acme' as tenant_id, 1 as n"
        )
    after = export_parquet(home, home.root / "source.duckdb")
    assert after.removed > 0
    assert not list(home.parquet.rglob("date=2025-01-01"))
    assert (home.parquet / "_aggregates" / "daily_session_metrics.parquet").exists()
    assert not [p for p in home.root.iterdir() if p.name.startswith(".parquet-staging-")]


def test_only_changed_partitions_are_rewritten(home: Home) -> None:
    export_parquet(home, make_published(home))
    out = home.parquet
    untouched = [
        out / "repo=globex-app/date=2025-01-01/data_0.parquet",
        out / "tenant=globex/repo=globex-app/date=2025-01-01/data_0.parquet",
        out / "tenant=acme/repo=acme-web/date=2025-01-02/data_0.parquet",
    ]
    changed = [
        out / "repo=acme-api/date=2025-01-02/data_0.parquet",
        out / "tenant=acme/repo=acme-api/date=2025-01-02/data_0.parquet",
    ]
    stamps = {p: p.stat().st_mtime_ns for p in [*untouched, *changed]}
    manifest = json.loads((out / "_manifest.json").read_text())["partitions"]
    assert manifest["repo=acme-api/date=2025-01-02"][0] == 1
    assert manifest["tenant=acme/repo=acme-api/date=2025-01-02"][0] == 1

    rows = [*SESSIONS, ("acme", "acme/api", "2025-01-02", 1)]  # one more request on one day
    export_parquet(home, make_published(home, rows))
    assert all(p.stat().st_mtime_ns == stamps[p] for p in untouched)
    assert all(p.stat().st_mtime_ns != stamps[p] for p in changed)
    assert [read(p) for p in changed] == [2, 2]
    assert (
        json.loads((out / "_manifest.json").read_text())["partitions"]["repo=acme-api/date=2025-01-02"][0]
        == 2
    )

    untouched[0].unlink()  # a file deleted behind our back is written again
    export_parquet(home, make_published(home, rows))
    assert untouched[0].exists() and read(untouched[0]) == 4

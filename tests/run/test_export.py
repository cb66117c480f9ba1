"""Parquet exports: Hive layout, aggregates, per-tenant trees, refused partition values, re-exports."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from prodlens.home import Home
from prodlens.run.export import NULL_PARTITION, export_parquet, repo_partition

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
    null = NULL_PARTITION
    assert files(out) == {
        "owner=acme/repo=web/date=2025-01-01/data_0.parquet",
        "owner=acme/repo=web/date=2025-01-02/data_0.parquet",
        "owner=acme/repo=api/date=2025-01-02/data_0.parquet",
        f"owner={null}/repo={null}/date=2025-01-03/data_0.parquet",
        "owner=globex/repo=app/date=2025-01-01/data_0.parquet",
        "_aggregates/daily_session_metrics.parquet",
        "_aggregates/daily_github_metrics.parquet",
        "tenant=acme/owner=acme/repo=web/date=2025-01-01/data_0.parquet",
        "tenant=acme/owner=acme/repo=web/date=2025-01-02/data_0.parquet",
        "tenant=acme/owner=acme/repo=api/date=2025-01-02/data_0.parquet",
        f"tenant=acme/owner={null}/repo={null}/date=2025-01-03/data_0.parquet",
        "tenant=acme/_aggregates/daily_session_metrics.parquet",
        "tenant=globex/owner=globex/repo=app/date=2025-01-01/data_0.parquet",
        "tenant=globex/_aggregates/daily_session_metrics.parquet",
    }
    # DuckDB prunes and types the Hive partitions; the files keep repo_slug/event_date/tenant_id themselves
    sessions = out / "owner=*" / "repo=*" / "date=*" / "*.parquet"
    assert read(sessions) == 3 + 2 + 1 + 2 + 4 + 5 == result.session_rows
    assert read(sessions, "owner = 'acme' and repo = 'web' and date = '2025-01-01'") == 3 + 5
    assert read(sessions, "owner is null and repo is null") == 2  # Hive's null partition reads back as NULL
    assert read(out / "tenant=*" / "owner=*" / "repo=*" / "date=*" / "*.parquet", "tenant = 'acme'") == 8
    assert read(out / "tenant=globex" / "owner=*" / "repo=*" / "date=*" / "*.parquet") == 4
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
    assert (
        read(home.parquet / "owner=*" / "repo=*" / "date=*" / "*.parquet", "tenant_id = '../../escaped'") == 5
    )


@pytest.mark.parametrize(
    "tenant", ["__HIVE_DEFAULT_PARTITION__", "tenant=evil", "", "x\ny", ".hidden", "a b", "a/b", "x" * 65]
)
def test_tenant_ids_outside_the_rule_get_no_tree(home: Home, tenant: str) -> None:
    result = export_parquet(home, make_published(home, [(tenant, "acme/web", "2025-01-01", 2)]))
    assert result.tenants == [] and result.refused == [f"tenant_id {tenant!r} (2 rows)"]
    assert not list(home.parquet.glob("tenant=*"))
    assert read(home.parquet / "owner=*" / "repo=*" / "date=*" / "*.parquet") == 2  # still in the shared tree


def test_repo_partition() -> None:
    assert repo_partition("acme/web") == ("acme", "web")
    assert repo_partition("acme/web..v2") == ("acme", "web..v2")
    assert repo_partition(None) is None
    for bad in ("../x", "acme/..", "acme/.", "/etc/passwd", "a/b/c", "a\\b/c", "Acme/Web", "-a/b"):
        with pytest.raises(ValueError):
            repo_partition(bad)


AMBIGUOUS = ["a/b-c", "a-b/c", "acme/web..v2", "acme/007", "acme/2025-01-01", "acme/.github"]


def test_repository_folders_are_injective_and_read_back_exactly(home: Home) -> None:
    """The old one-level layout put a/b-c and a-b/c in one folder and dropped acme/web..v2; each slug now
    has its own owner=/repo= folders and reads back as the exact slug in DuckDB and in pandas (pyarrow)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    rows = [("acme", slug, "2025-01-01", i + 1) for i, slug in enumerate(AMBIGUOUS)]
    result = export_parquet(home, make_published(home, rows))
    assert result.refused == []
    sessions = home.parquet / "owner=*" / "repo=*" / "date=*" / "*.parquet"
    with duckdb.connect() as con:
        got = con.execute(
            f"select owner || '/' || repo, count(*), bool_and(owner || '/' || repo = repo_slug) "
            f"from read_parquet('{sessions}', hive_partitioning = true, "
            "hive_types = {'owner': 'varchar', 'repo': 'varchar', 'date': 'date'}) group by 1 order by 1"
        ).fetchall()
    assert got == sorted((slug, i + 1, True) for i, slug in enumerate(AMBIGUOUS))
    partitioning = ds.partitioning(
        pa.schema([("owner", pa.string()), ("repo", pa.string()), ("date", pa.string())]), flavor="hive"
    )
    frame = ds.dataset(
        home.parquet, format="parquet", partitioning=partitioning, ignore_prefixes=["tenant=", "_"]
    )
    table = frame.to_table().to_pandas()
    table["slug"] = table["owner"] + "/" + table["repo"]
    assert (table["slug"] == table["repo_slug"]).all()
    assert table.groupby("slug").size().to_dict() == {slug: i + 1 for i, slug in enumerate(AMBIGUOUS)}


def test_the_earlier_one_level_layout_is_removed(home: Home) -> None:
    old = home.parquet / "repo=acme-web" / "date=2025-01-01" / "data_0.parquet"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"PAR1")
    result = export_parquet(home, make_published(home, [("acme", "acme/web", "2025-01-01", 1)]))
    assert result.removed == 1 and not (home.parquet / "repo=acme-web").exists()
    assert files(home.parquet) >= {"owner=acme/repo=web/date=2025-01-01/data_0.parquet"}


def test_reexport_keeps_unchanged_files_and_removes_vanished_partitions(home: Home) -> None:
    source = make_published(home)
    export_parquet(home, source)
    kept = home.parquet / "owner=globex" / "repo=app" / "date=2025-01-01" / "data_0.parquet"
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
        out / "owner=globex/repo=app/date=2025-01-01/data_0.parquet",
        out / "tenant=globex/owner=globex/repo=app/date=2025-01-01/data_0.parquet",
        out / "tenant=acme/owner=acme/repo=web/date=2025-01-02/data_0.parquet",
    ]
    changed = [
        out / "owner=acme/repo=api/date=2025-01-02/data_0.parquet",
        out / "tenant=acme/owner=acme/repo=api/date=2025-01-02/data_0.parquet",
    ]
    stamps = {p: p.stat().st_mtime_ns for p in [*untouched, *changed]}
    manifest = json.loads((out / "_manifest.json").read_text())["partitions"]
    assert manifest["owner=acme/repo=api/date=2025-01-02"][0] == 1
    assert manifest["tenant=acme/owner=acme/repo=api/date=2025-01-02"][0] == 1

    rows = [*SESSIONS, ("acme", "acme/api", "2025-01-02", 1)]  # one more request on one day
    export_parquet(home, make_published(home, rows))
    assert all(p.stat().st_mtime_ns == stamps[p] for p in untouched)
    assert all(p.stat().st_mtime_ns != stamps[p] for p in changed)
    assert [read(p) for p in changed] == [2, 2]
    assert (
        json.loads((out / "_manifest.json").read_text())["partitions"]["owner=acme/repo=api/date=2025-01-02"][
            0
        ]
        == 2
    )

    untouched[0].unlink()  # a file deleted behind our back is written again
    export_parquet(home, make_published(home, rows))
    assert untouched[0].exists() and read(untouched[0]) == 4

"""Parquet exports of the published marts under PRODLENS_HOME/parquet.

    parquet/
      owner=<owner>/repo=<name>/date=YYYY-MM-DD/data_0.parquet   marts.sessions, every tenant
      _aggregates/<mart>.parquet                                 every aggregate mart, every tenant
      tenant=<id>/owner=<owner>/repo=<name>/date=YYYY-MM-DD/data_0.parquet
      tenant=<id>/_aggregates/<mart>.parquet                     aggregate marts that carry tenant_id
      _manifest.json                                             what each session partition holds

Hive-style, so DuckDB, pandas and Spark prune partitions on read. The repository is two partition levels,
owner and name, so the mapping from slug to folders is injective (`a/b-c` and `a-b/c` are different
folders) and `owner || '/' || repo` reads back as the exact slug. Readers that autocast partition values
should declare both as strings (DuckDB: `hive_types = {'owner': 'varchar', 'repo': 'varchar'}`), or a
repository named `007` reads back as the number 7; the files also keep repo_slug, event_date and
tenant_id themselves. A missing repo is written as Hive's null partition (`__HIVE_DEFAULT_PARTITION__`)
at both levels.

Partition values come from the data, so each one is checked before it becomes a folder: a repo slug must
follow GitHub's rules (prodlens.names.repo_slug) and a tenant id the tenant-id rule; neither can then
hold a path separator or be `.`/`..`. A value that fails is refused: its rows are left out of that tree
and the refusal is reported.

Incremental: each session partition has a fingerprint (row count and an XOR of row hashes over every
column), kept in _manifest.json. Only partitions whose fingerprint changed (or whose file is missing)
are written again, so a run that added one day of data rewrites one day. Partitions that disappeared
(for example after a retention purge) are deleted, and so are the files of the earlier one-level
`repo=<owner>-<name>` layout. Aggregates are small and rewritten every time, but a file whose bytes did
not change is left alone (same mtime, cheap incremental syncs).

Files are written to a staging folder and moved into place one at a time with `os.replace`, so a
reader never sees a half-written file; the manifest is replaced last, so after a crash it never
claims a partition the files do not hold.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from prodlens.home import Home
from prodlens.names import is_tenant_id, repo_slug
from prodlens.run.marts import SESSIONS, is_aggregate
from prodlens.warehouse import tables_in

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
MANIFEST = "_manifest.json"
DATA_FILE = "data_0.parquet"
_STAGING_PREFIX = ".parquet-staging-"
MANAGED = ("owner=*", "_aggregates", "tenant=*", "repo=*")  # repo=*: the earlier layout, removed

Fingerprints = dict[str, list[int]]  # partition folder -> [rows, xor of row hashes]


@dataclass
class ExportResult:
    session_rows: int = 0
    tenants: list[str] = field(default_factory=list)
    aggregates: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "tenant_id '../x' (3 rows)"
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"{self.session_rows} session rows, {len(self.aggregates)} aggregate marts, "
            f"{len(self.tenants)} tenant trees; files: {self.written} written, "
            f"{self.unchanged} unchanged, {self.removed} removed"
        )
        return text + (f"; refused partitions: {'; '.join(self.refused)}" if self.refused else "")


def repo_partition(slug: str | None) -> tuple[str, str] | None:
    """The partition values of a repo slug (`acme/web` -> ("acme", "web")), None for a missing repo.
    Raises ValueError for a slug that is not a canonical GitHub owner/name (so could escape its folder)."""
    if slug is None:
        return None
    if repo_slug(slug) != slug:
        raise ValueError(slug)
    owner, name = slug.split("/")
    return owner, name


def inside(root: Path, path: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def export_parquet(home: Home, source: Path | None = None) -> ExportResult:
    """Export the marts of `source` (default: the published database) under PRODLENS_HOME/parquet."""
    started = time.monotonic()
    result = ExportResult()
    for stale in home.root.glob(f"{_STAGING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = home.root / f"{_STAGING_PREFIX}{os.getpid()}"
    staging.mkdir(parents=True)
    target = home.parquet
    previous = read_manifest(target)
    fingerprints: Fingerprints = {}
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach '{source or home.published}' as pub (read_only)")
        marts = tables_in(con, "marts", catalog="pub")
        if SESSIONS in marts:
            fingerprints = _export_sessions(con, staging, target, previous, result)
        for mart in [m for m in marts if is_aggregate(m)]:
            _export_aggregate(con, staging, mart, result.tenants)
            result.aggregates.append(mart)
    finally:
        con.close()
    try:
        target.mkdir(parents=True, exist_ok=True)
        # Forget the partitions about to change first: after a crash mid-move the manifest never vouches
        # for a file that may already hold other rows.
        write_manifest(target, {k: v for k, v in previous.items() if fingerprints.get(k) == v})
        keep = {Path(folder) / DATA_FILE for folder in fingerprints}
        written, unchanged, result.removed = sync_tree(staging, target, keep)
        result.written = written
        result.unchanged = unchanged + len(keep) - sum(1 for p in keep if (staging / p).exists())
        write_manifest(target, fingerprints)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result.seconds = time.monotonic() - started
    return result


def read_manifest(target: Path) -> Fingerprints:
    try:
        doc = json.loads((target / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    partitions = doc.get("partitions") if isinstance(doc, dict) else None
    return partitions if isinstance(partitions, dict) else {}


def write_manifest(target: Path, fingerprints: Fingerprints) -> None:
    tmp = target / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"version": 1, "partitions": fingerprints}, sort_keys=True))
    os.replace(tmp, target / MANIFEST)


def _allowed(
    con: duckdb.DuckDBPyConnection, result: ExportResult
) -> tuple[dict[str | None, tuple[str, str] | None], list[str]]:
    """{repo_slug: (owner, name)} and the tenant ids that may become folders; records refusals."""
    repos: dict[str | None, tuple[str, str] | None] = {}
    for slug, n in con.execute(
        "select repo_slug, count(*) from pub.marts.sessions group by 1 order by 1"
    ).fetchall():
        try:
            repos[slug] = repo_partition(slug)
        except ValueError:
            result.refused.append(f"repo_slug {slug!r} ({n} rows)")
    tenants = []
    for tenant, n in con.execute(
        "select tenant_id, count(*) from pub.marts.sessions where tenant_id is not null group by 1 order by 1"
    ).fetchall():
        if is_tenant_id(tenant):
            tenants.append(tenant)
        else:
            result.refused.append(f"tenant_id {tenant!r} ({n} rows)")
    return repos, tenants


def _export_sessions(
    con: duckdb.DuckDBPyConnection, staging: Path, target: Path, previous: Fingerprints, result: ExportResult
) -> Fingerprints:
    """Stage the session partitions whose fingerprint changed; returns every partition's fingerprint."""
    repos, tenants = _allowed(con, result)
    result.tenants = tenants
    con.execute("create temp table repo_folder (repo_slug varchar, owner varchar, name varchar)")
    if repos:
        con.executemany(
            "insert into repo_folder values (?, ?, ?)", [[k, *(v or (None, None))] for k, v in repos.items()]
        )
    con.execute("create temp table tenant_folder (tenant_id varchar)")
    if tenants:
        con.executemany("insert into tenant_folder values (?)", [[t] for t in tenants])
    columns = [
        c for (c,) in con.execute("select name from pragma_table_info('pub.marts.sessions')").fetchall()
    ]
    # A view, not a table: the fingerprint pass and each COPY stream the rows, nothing is materialised.
    con.execute(
        f"""
        create temp view rows as
        select
            s.*,
            f.owner,  -- NULL: DuckDB writes Hive's null partition
            f.name as repo,
            'owner=' || coalesce(f.owner, '{NULL_PARTITION}') || '/repo=' || coalesce(f.name, '{NULL_PARTITION}')
                as repo_key,
            strftime(s.event_date, '%Y-%m-%d') as date,
            case when s.tenant_id in (select tenant_id from tenant_folder) then s.tenant_id end as tenant
        from pub.marts.sessions as s
        inner join repo_folder as f on s.repo_slug is not distinct from f.repo_slug
        where s.event_date is not null
        """
    )
    row_hash = "hash(" + ", ".join(f'"{c}"' for c in columns) + ")"
    fingerprints: Fingerprints = {}
    for tenant, repo, day, n, xor in con.execute(
        f"select tenant, repo_key, date, count(*), bit_xor({row_hash}) from rows group by all order by all"
    ).fetchall():
        result.session_rows += n
        folder = f"{repo}/date={day}"
        total = fingerprints.setdefault(folder, [0, 0])
        total[0], total[1] = total[0] + n, total[1] ^ xor
        if tenant is not None:
            fingerprints[f"tenant={tenant}/{folder}"] = [n, xor]
    changed = sorted(
        k for k, v in fingerprints.items() if previous.get(k) != v or not (target / k / DATA_FILE).is_file()
    )
    con.execute("create temp table changed (folder varchar)")
    if changed:
        con.executemany("insert into changed values (?)", [[k] for k in changed])
    options = "format parquet, partition_by ({}), filename_pattern 'data_{{i}}', overwrite_or_ignore"
    output = "* exclude (tenant, repo_key)"
    con.execute(
        f"copy (select {output}, from rows where repo_key || '/date=' || date in (select folder from changed) "
        f"order by owner, repo, date, timestamp, trace_hash) to '{staging}' ({options.format('owner, repo, date')})"
    )
    con.execute(
        f"copy (select {output}, tenant from rows "
        "where 'tenant=' || tenant || '/' || repo_key || '/date=' || date in (select folder from changed) "
        f"order by tenant, owner, repo, date, timestamp, trace_hash) "
        f"to '{staging}' ({options.format('tenant, owner, repo, date')})"
    )
    return fingerprints


def _export_aggregate(con: duckdb.DuckDBPyConnection, staging: Path, mart: str, tenants: list[str]) -> None:
    target = staging / "_aggregates"
    target.mkdir(exist_ok=True)
    con.execute(
        f"copy (select * from pub.marts.\"{mart}\" order by all) to '{target / mart}.parquet' (format parquet)"
    )
    columns = {r[0] for r in con.execute(f'describe pub.marts."{mart}"').fetchall()}
    if "tenant_id" not in columns:
        return
    for tenant in tenants:  # the tenant-id rule: no quotes, separators or dot names
        folder = staging / f"tenant={tenant}" / "_aggregates"
        assert inside(staging, folder)
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"copy (select * from pub.marts.\"{mart}\" where tenant_id = '{tenant}' order by all) "
            f"to '{folder / mart}.parquet' (format parquet)"
        )


def _managed_files(root: Path) -> set[Path]:
    files: set[Path] = set()
    for pattern in MANAGED:
        for top in root.glob(pattern):
            if top.is_dir():
                files.update(p.relative_to(root) for p in top.rglob("*.parquet"))
    return files


def sync_tree(staging: Path, target: Path, keep: set[Path] | None = None) -> tuple[int, int, int]:
    """Move the files of `staging` into `target` one atomic rename at a time, then delete the managed
    files that are neither new nor in `keep` (unchanged partitions). Returns (written, unchanged,
    removed)."""
    new = {p.relative_to(staging) for p in staging.rglob("*.parquet")}
    written = unchanged = removed = 0
    for rel in sorted(new):
        src, dest = staging / rel, target / rel
        if not inside(target, dest):
            raise ValueError(f"refusing to write {dest}: outside {target}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if (
            dest.is_file()
            and dest.stat().st_size == src.stat().st_size
            and filecmp.cmp(src, dest, shallow=False)
        ):
            unchanged += 1
            continue
        os.replace(src, dest)
        written += 1
    for rel in sorted(_managed_files(target) - new - (keep or set())):
        (target / rel).unlink(missing_ok=True)
        removed += 1
    for folder in sorted(
        (p for p in target.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        if not any(folder.iterdir()):
            folder.rmdir()
    return written, unchanged, removed

"""Publishing the analyst database: a consistent copy of the marts, swapped in atomically.

Readers never open the working file. After a successful build:

1. the working file is checkpointed (so no committed row is left only in its WAL) and, while this
   process still holds it open (so no other process can write it), copied byte for byte to a
   temporary file beside the published one;
2. in that copy, views of schema `marts` become tables (readers never reach into other schemas or
   files), everything outside `marts` is dropped, and a manifest is added (`main.prodlens_manifest`:
   relation, row count, publish time); the copy is checkpointed and closed;
3. the copy is made read-only and fsynced;
4. `os.replace` swaps it onto PRODLENS_HOME/prodlens.duckdb, and the folder is fsynced so the rename
   itself survives a power cut.

A crash at any point leaves either the old file or the new complete one in place, never a half:
before the rename the old file is untouched; the rename is atomic. Readers that already have the old
file open keep reading its (unlinked) inode, a consistent old version; new readers see the new one.
Left-over temporary files of crashed publishes are removed by the next publish.

Why a byte copy: at 10M session rows it publishes in about a second, where copying the marts table by
table (`create table ... as select`) takes 32-61 s and a Hive-partitioned Parquet export for views
46-84 s (tests/run/bench_publish.py; docs/operations.md, "Publishing"). The dropped schemas leave free
blocks in the file, so the published file is about as large as the working file.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from prodlens.home import Home
from prodlens.processes import alive
from prodlens.warehouse import connect, scalar

PUBLISHED_SCHEMAS = ("marts",)
MANIFEST = "main.prodlens_manifest"
DBT_INTERMEDIATE = ("__dbt_tmp", "__dbt_backup")
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")
_TEMP = re.compile(r"^\.prodlens\.duckdb\.(\d+)\.tmp(\.wal)?$")


@dataclass
class PublishResult:
    path: Path
    published_at: datetime
    rows: dict[str, int] = field(default_factory=dict)  # "schema.table" -> row count
    seconds: float = 0.0

    @property
    def relations(self) -> int:
        return len(self.rows)


def temp_path(home: Home, pid: int | None = None) -> Path:
    return home.root / f".prodlens.duckdb.{pid or os.getpid()}.tmp"


def remove_stale_temp_files(home: Home) -> list[Path]:
    """Delete temporary files left by publishes that were killed (their process is gone)."""
    removed: list[Path] = []
    if not home.root.is_dir():
        return removed
    for path in home.root.iterdir():
        match = _TEMP.match(path.name)
        if match and (int(match.group(1)) == os.getpid() or not alive(int(match.group(1)))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def snapshot_working_file(home: Home, tmp: Path) -> None:
    """Checkpoint the working file and copy it to `tmp` while holding it open: DuckDB's lock keeps
    every other process from writing it during the copy, and after the checkpoint the file alone
    (without its WAL) holds every committed row."""
    con = connect(home.warehouse)
    try:
        con.execute("checkpoint")
        wal = Path(f"{home.warehouse}.wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise RuntimeError(f"{wal} still holds changes after CHECKPOINT; nothing was published")
        shutil.copyfile(home.warehouse, tmp)
    finally:
        con.close()


def drop_schema(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    con.execute(f'drop schema "{schema}" cascade')


def keep_only_marts(tmp: Path, published_at: datetime) -> dict[str, int]:
    """In the copy `tmp`: views of the published schemas become tables, everything else is dropped,
    and the manifest is written. Returns the row count of every published relation."""
    con = duckdb.connect(str(tmp))
    try:
        con.execute("set enable_progress_bar = false")
        relations = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database() order by all"
        ).fetchall()
        for schema, table, kind in relations:
            name = f'"{schema}"."{table}"'
            if schema in PUBLISHED_SCHEMAS and kind == "VIEW":  # before the schemas it reads go
                con.execute(f'create table "{schema}"."{table}__prodlens_view" as select * from {name}')
                con.execute(f"drop view {name}")
                con.execute(f'alter table "{schema}"."{table}__prodlens_view" rename to "{table}"')
            elif schema == "main" or (schema in PUBLISHED_SCHEMAS and table.endswith(DBT_INTERMEDIATE)):
                con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} {name}")
        for (schema,) in con.execute(
            "select schema_name from information_schema.schemata where catalog_name = current_database()"
        ).fetchall():
            if schema not in (*PUBLISHED_SCHEMAS, "main", *SYSTEM_SCHEMAS):
                drop_schema(con, schema)
        rows = {
            f"{schema}.{table}": scalar(con, f'select count(*) from "{schema}"."{table}"')
            for schema, table in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = current_database() and table_schema in ? order by all",
                [list(PUBLISHED_SCHEMAS)],
            ).fetchall()
        }
        con.execute(
            f"create table {MANIFEST} (relation varchar primary key, row_count bigint, published_at timestamptz)"
        )
        if rows:
            con.executemany(
                f"insert into {MANIFEST} values (?, ?, ?)", [[k, n, published_at] for k, n in rows.items()]
            )
        con.execute("checkpoint")
    finally:
        con.close()
    Path(f"{tmp}.wal").unlink(missing_ok=True)  # empty after the checkpoint
    return rows


def swap_in(home: Home, tmp: Path) -> None:
    """Make `tmp` durable and atomically replace the published file with it."""
    os.chmod(tmp, 0o444)  # readers open it read-only; a read-write open would write a WAL beside it
    _fsync_file(tmp)
    os.replace(tmp, home.published)
    fsync_dir(home.root)
    # A WAL beside the published path can only belong to a replaced file that someone opened for
    # writing; replayed against the new file it would corrupt it.
    Path(f"{home.published}.wal").unlink(missing_ok=True)


def publish_marts(home: Home) -> PublishResult:
    """Publish the marts of the working file to PRODLENS_HOME/prodlens.duckdb (see the module doc)."""
    started = time.monotonic()
    remove_stale_temp_files(home)
    tmp = temp_path(home)
    published_at = datetime.now(UTC)
    try:
        snapshot_working_file(home, tmp)
        rows = keep_only_marts(tmp, published_at)
        swap_in(home, tmp)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return PublishResult(home.published, published_at, rows, time.monotonic() - started)

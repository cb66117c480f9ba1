"""Normalise records in-process (no dlt, no dbt) to test the field rules on small examples."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import duckdb

from loaders.litellm.normalize import Counts, Normaliser
from prodlens.home import Home
from prodlens.names import REPO_SLUG_PATTERN, TENANT_ID_PATTERN

LOADED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def new_normaliser(*, repo: str | None = None, tenant: str | None = None, **options: Any) -> Normaliser:
    """A Normaliser with the product's names rules, loading at LOADED_AT (`options`: warehouse, spill_dir, ...)."""
    return Normaliser(
        default_repo=repo,
        default_tenant=tenant,
        repo_slug_pattern=REPO_SLUG_PATTERN,
        tenant_id_pattern=TENANT_ID_PATTERN,
        loaded_at=LOADED_AT,
        **options,
    )


def normalise(
    records: list[dict | str | bytes], *, repo: str | None = None, tenant: str | None = None
) -> tuple[list[dict], list[dict], Counts]:
    """(usable rows, dead letters, counts) for `records` given as one file's lines."""
    lines = [
        r if isinstance(r, bytes) else (r if isinstance(r, str) else json.dumps(r)).encode() for r in records
    ]
    n = new_normaliser(repo=repo, tenant=tenant)
    try:
        n.add("/logs/test.jsonl", 1, lines)
        n.finish()
        rows = [r for batch in n.accepted() for r in batch.to_pylist()]
        dead = [r for table in n.rejected() for r in table.to_pylist()]
        return rows, dead, n.counts
    finally:
        n.close()


def one(record: dict, **kwargs) -> dict:
    """The single usable row for one record (fails if it was dead-lettered)."""
    rows, dead, _ = normalise([record], **kwargs)
    assert not dead, dead
    assert len(rows) == 1
    return rows[0]


def assert_nowhere(home: Home, markers: list[str], *, kept: str) -> None:
    """No marker in any file under PRODLENS_HOME, nor in any column of any table of the working and the
    published database (DuckDB compresses strings on disk, so a byte scan alone could miss one). `kept`
    is a value known to be stored: finding it proves the scan can see what is there."""
    assert markers
    found = [
        str(p)
        for p in home.root.rglob("*")
        if p.is_file() and any(m.encode() in p.read_bytes() for m in markers)
    ]
    assert found == []
    pattern = "|".join(re.escape(m) for m in markers)
    for db in (home.warehouse, home.published):
        with duckdb.connect(str(db), read_only=True) as con:
            tables = con.execute(
                "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
            ).fetchall()
            assert tables
            for schema, table in tables:
                hits = con.execute(
                    f'select count(*) from "{schema}"."{table}" as r '
                    "where regexp_matches(cast(r as varchar), ?)",
                    [pattern],
                ).fetchone()
                assert hits == (0,), f"{db.name}:{schema}.{table}"
            stored = con.execute(
                "select count(*) from marts.sessions as r where contains(cast(r as varchar), ?)", [kept]
            ).fetchone()
            assert stored is not None and stored[0] > 0

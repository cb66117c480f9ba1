"""Normalise records in-process (no dlt, no dbt) to test the field rules on small examples."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from loaders.litellm.normalize import Counts, Normaliser
from prodlens.names import REPO_SLUG_PATTERN, TENANT_ID_PATTERN

LOADED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def normalise(
    records: list[dict | str | bytes], *, repo: str | None = None, tenant: str | None = None
) -> tuple[list[dict], list[dict], Counts]:
    """(usable rows, dead letters, counts) for `records` given as one file's lines."""
    lines = [
        r if isinstance(r, bytes) else (r if isinstance(r, str) else json.dumps(r)).encode() for r in records
    ]
    n = Normaliser(
        default_repo=repo,
        default_tenant=tenant,
        repo_slug_pattern=REPO_SLUG_PATTERN,
        tenant_id_pattern=TENANT_ID_PATTERN,
        loaded_at=LOADED_AT,
    )
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

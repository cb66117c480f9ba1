"""Which marts are row-level (purged by retention, not aggregates) and which are aggregates.

Retention deletes rows older than the horizon from the row-level marts (and from raw); aggregates are
kept permanently and exported under parquet/_aggregates/. A mart that is not listed here and is not a
GitHub entity table counts as an aggregate.
"""

from __future__ import annotations

# mart -> the column that dates a row, for the retention purge
ROW_LEVEL_MARTS: dict[str, str] = {
    "sessions": "timestamp",
    "rejected_traces": "ingested_at",
    "session_summaries": "ended_at",
    "routing_decisions": "timestamp",
}
# Raw trace tables -> the column that dates a row. GitHub raw tables are not purged: pull requests
# and commits are few, and the GitHub marts are rebuilt from them.
RAW_TABLES: dict[str, str] = {
    "raw.litellm_requests": "timestamp",
    "raw.litellm_rejects": "ingested_at",
}
# The incremental request-grain tables between raw and the marts -> the column that dates a row: a purge
# deletes their old rows too, as an incremental build would keep them.
REQUEST_TABLES: dict[str, str] = {
    "staging.stg_litellm__requests": "timestamp",
}
# Entity and bookkeeping tables of the GitHub marts: neither purged nor aggregates.
ENTITY_MARTS = frozenset({"pull_requests", "commits", "etag_state", "developer_identity_map"})
SESSIONS = "sessions"


def is_aggregate(mart: str) -> bool:
    return mart not in ROW_LEVEL_MARTS and mart not in ENTITY_MARTS

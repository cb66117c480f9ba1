"""The keys a lake already holds, for the trace normaliser's deduplication on a lake target.

On the embedded target the normaliser attaches the working DuckDB file read-only and skips a line whose
trace_hash (or coding-agent event id) a completed load already holds, and a span whose parent call is
already loaded; dlt's merge is only the backstop. dlt's filesystem destination appends plain Parquet (it
merges only into Delta or Iceberg tables), so on a lake target nothing else would stop a record that is
sent again, in a rotated or re-exported file, from being stored twice.

This module copies the few key columns the normaliser reads from the lake, through dlt's SQL client
(DuckDB views over the table files, with dlt's own credentials for an s3:// or abfss:// lake), into a small
DuckDB file laid out like the working file's `raw` schema. The normaliser attaches that file instead of
the warehouse, so both targets skip the same lines and report the same counts. The lake holds no prompt or
response content, and neither does this file."""

from __future__ import annotations

from pathlib import Path

from prodlens.home import Home
from prodlens.ingest.tables import TRACES_PIPELINE
from prodlens.pipeline import make_pipeline

#: the raw tables and columns the normaliser's deduplication reads (loaders/litellm/normalize.py)
KEY_COLUMNS = {
    "litellm_requests": ("trace_hash", "tenant_id", "trace_id", "request_id", "_dlt_load_id"),
    "agent_events": ("event_id", "_dlt_load_id"),
    "_dlt_loads": ("load_id", "status"),
}


def write_lake_keys(home: Home, path: Path) -> Path | None:
    """Write the lake's key columns into a DuckDB file at `path` (schema `raw`, one table per entry of
    KEY_COLUMNS the traces pipeline has loaded); None when the lake holds no requests yet."""
    pipeline = make_pipeline(home, TRACES_PIPELINE)
    if not pipeline.default_schema_name:
        return None
    schema = pipeline.default_schema
    loaded = {
        name: columns
        for name, columns in KEY_COLUMNS.items()
        if name in schema.tables and set(columns) <= set(schema.tables[name].get("columns", {}))
    }
    if "litellm_requests" not in loaded:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with pipeline.sql_client() as client:
        client.create_views_for_tables({name: name for name in loaded})
        con = client.native_connection
        con.execute(f"attach '{path}' as lake_keys")
        try:
            con.execute("create schema lake_keys.raw")
            for name, columns in loaded.items():
                con.execute(f"create table lake_keys.raw.{name} as select {', '.join(columns)} from {name}")
        finally:
            con.execute("detach lake_keys")
    return path

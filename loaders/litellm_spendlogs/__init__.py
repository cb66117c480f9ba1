"""The dlt source for LiteLLM's `LiteLLM_SpendLogs` table in the proxy's Postgres database.

dlt's `sql_table` reads the table with SQLAlchemy and psycopg: the whitelisted columns only (settings.py),
incrementally on `"startTime"` with a look-back (`lag`) for rows that commit late, in chunks of Arrow
tables. Each chunk becomes JSON lines with LiteLLM's column names and goes through the trace normaliser
(loaders.litellm.normalize), the one definition of how a LiteLLM record becomes a request row, so that a
request seen both as a StandardLoggingPayload (`id`) and as a SpendLogs row (`request_id`) is one row:
both hash to the same trace_hash, and the rows merge on it. The source is the trace source's schema
(`litellm`): same tables, same keys; its cursor lives in that source's dlt state, so it advances only
when the load that carries it commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import dlt
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from dlt.common.schema.typing import TMergeDispositionDict
from dlt.extract import DltResource
from dlt.sources.sql_database import sql_table

from loaders.litellm.normalize import Counts, Normaliser
from loaders.litellm_spendlogs.settings import COLUMNS, CURSOR, PRIMARY_KEY, TABLE, metadata_sql

MERGE: TMergeDispositionDict = {"disposition": "merge", "strategy": "delete-insert"}
#: The `source_file` of request rows and dead letters that came from the database.
SOURCE_NAME = f"postgres:{TABLE}"
CHUNK_ROWS = 20_000


def whitelisted_query(query: Any, table: sa.Table) -> Any:
    """dlt's query (its incremental filter and order kept) with the whitelisted columns only, in the
    table's column order, `metadata` rebuilt from its whitelisted keys."""
    columns = [
        sa.literal_column(metadata_sql(), type_=c.type).label("metadata") if c.name == "metadata" else c
        for c in table.columns
        if c.name in COLUMNS or c.name == "metadata"
    ]
    return query.with_only_columns(*columns)


def as_json_lines(chunk: pa.Table) -> list[bytes]:
    """The rows of `chunk` as JSON lines with LiteLLM's column names (`metadata` and `request_tags` as
    JSON values, times as UTC ISO strings: Postgres keeps them without a zone, in UTC)."""
    con = duckdb.connect()
    try:
        con.register("chunk", chunk)
        names = set(chunk.column_names)
        replaced = [f"json({c}) as {c}" for c in ("metadata", "request_tags") if c in names]
        times = [
            f'strftime("{c}", \'%Y-%m-%dT%H:%M:%S.%fZ\') as "{c}"'
            for c in ("startTime", "endTime", "completionStartTime")
            if c in names
        ]
        replace = f" replace ({', '.join(replaced + times)})" if replaced or times else ""
        rows = con.execute(f"select to_json(t)::varchar from (select *{replace} from chunk) as t").fetchall()
    finally:
        con.close()
    return [row[0].encode() for row in rows]


@dlt.source(name="litellm", max_table_nesting=0)
def litellm_spendlogs(
    credentials: str | sa.engine.Engine,
    normaliser: Callable[[], Normaliser],
    counts: Counts,
    lookback: timedelta = timedelta(hours=1),
    schema: str | None = None,
) -> Iterator[DltResource]:
    """Rows of `schema`.LiteLLM_SpendLogs newer than the cursor minus `lookback` → `litellm_requests`
    and `litellm_rejects`. `normaliser` makes the Normaliser of one chunk; `counts` adds up every chunk's
    counts for the caller."""
    rows = sql_table(
        credentials=credentials,
        table=TABLE,
        schema=schema,
        incremental=dlt.sources.incremental(CURSOR, lag=lookback.total_seconds()),
        backend="pyarrow",
        chunk_size=CHUNK_ROWS,
        reflection_level="full",
        included_columns=[*COLUMNS, "metadata"],
        query_adapter_callback=whitelisted_query,
        primary_key=PRIMARY_KEY,
    )
    rows = rows.with_name("litellm_spendlogs_rows")

    @dlt.transformer(name="litellm_requests", write_disposition="merge", primary_key="trace_hash")
    def requests(chunk: pa.Table) -> Iterator[Any]:
        work = normaliser()
        try:
            # a row's "line" is its startTime in epoch milliseconds: stable when the look-back reads it
            # again, so its dead letter is replaced rather than doubled
            started = pc.cast(pc.cast(chunk[CURSOR], pa.timestamp("ms")), pa.int64()).to_numpy(
                zero_copy_only=False
            )
            work.add(SOURCE_NAME, 0, as_json_lines(chunk), line_numbers=started)
            work.finish()
            yield from work.accepted()
            for dead in work.rejected():
                yield dlt.mark.with_hints(
                    dead,
                    dlt.mark.make_hints(
                        table_name="litellm_rejects", write_disposition=MERGE, primary_key="reject_id"
                    ),
                )
            for name, value in vars(work.counts).items():
                setattr(counts, name, getattr(counts, name) + value)
        finally:
            work.close()

    yield rows | requests

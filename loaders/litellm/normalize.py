"""Vectorised normalisation of trace lines in an in-memory DuckDB.

Lines arrive as Arrow arrays and are normalised by one SQL statement per chunk (sql/normalize.sql).
Usable rows accumulate in a content-free temp table; at the end they are deduplicated by trace_hash
against each other and against the rows already in the warehouse, and handed on as Arrow batches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.litellm.fields import TRACE_STRUCTURE_JSON
from loaders.litellm.files import LineBlock
from loaders.litellm.privacy import redact_text

BATCH_ROWS = 20_000
SCAN_ROWS = 2048
# Queued lines (or bytes of them) that trigger a normalise query; a big file's chunk goes at once.
FLUSH_ROWS = 20_000
FLUSH_BYTES = 32 * 1024 * 1024


def _sql(name: str) -> str:
    return resources.files("loaders.litellm").joinpath("sql", name).read_text()


@dataclass
class Counts:
    """What happened to the lines of one run. read = loaded + duplicates + dead_lettered + expired."""

    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    expired: int = 0
    blank: int = 0
    held_back: int = 0
    files: int = 0
    files_changed: int = 0


class Normaliser:
    """Normalises chunks of lines and keeps usable rows and dead letters until the run ends."""

    def __init__(
        self,
        *,
        default_repo: str | None,
        default_tenant: str | None,
        repo_slug_pattern: str,
        loaded_at: datetime,
        warehouse: Path | None = None,
        expire_before: datetime | None = None,
        spill_dir: Path | None = None,
    ) -> None:
        self.con = duckdb.connect()
        self.con.execute("set TimeZone = 'UTC'")
        self.con.execute("set enable_progress_bar = false")  # stdout carries only the summary line
        # Spilled data is content-free (normalised rows only); keep it inside PRODLENS_HOME.
        if spill_dir is not None:
            spill_dir.mkdir(parents=True, exist_ok=True)
            self.con.execute(f"set temp_directory = '{spill_dir}'")
        self.con.execute(_sql("macros.sql"))
        self.params = {
            "structure": TRACE_STRUCTURE_JSON,
            "default_repo": default_repo,
            "default_tenant": default_tenant,
            "repo_slug_pattern": repo_slug_pattern,
        }
        self.loaded_at = loaded_at
        self.expire_before = expire_before
        self.query = _sql("normalize.sql")
        self.counts = Counts()
        self.warehouse = warehouse
        self._staged = False
        self._staged_rows = 0
        self._in_order = False
        self._rejects: list[pa.Table] = []
        self._queued: list[pa.Table] = []  # lines waiting for the next normalise query
        self._queued_rows = 0
        self._queued_bytes = 0

    def _attach_existing(self) -> bool:
        """Attach the warehouse read-only as `wh`; True when it already holds loaded requests."""
        if self.warehouse is None or not self.warehouse.exists():
            return False
        self.con.execute(f"attach '{self.warehouse}' as wh (read_only)")
        found = self._scalar(
            "select count(*) from information_schema.tables "
            "where table_catalog = 'wh' and table_schema = 'raw' and table_name = 'litellm_requests'"
        )
        return bool(found)

    def close(self) -> None:
        self.con.close()

    def _scalar(self, sql: str, params: object = None) -> Any:
        row = self.con.execute(sql, params).fetchone()
        assert row is not None, sql
        return row[0]

    def release(self) -> None:
        """Free the staged rows once `accepted()` has handed them all on, so that dlt's load (next in the
        same process) has the memory. `rejected()` still works; nothing else does."""
        self.con.close()

    # ------------------------------------------------------------------ per chunk
    def add(self, source_file: str, first_line: int, lines: list[bytes] | LineBlock) -> None:
        """Normalise consecutive lines of one file, starting at line number `first_line`.

        Lines are queued and normalised FLUSH_ROWS at a time: one normalise query costs ~0.1-0.3 s to
        plan whatever its size, so the lines of many small files (an S3 bucket with an object per
        request) go through one query together rather than one query each."""
        if isinstance(lines, LineBlock):
            # Each line still ends with its newline: JSON ignores it, and dead letters trim it with `\r`.
            raw, block = lines.array, True
        else:
            raw, block = pa.array(lines, pa.large_binary()), False
        text, bad_index = _decode(raw)
        bad_utf8 = [first_line + i for i in bad_index]
        numbers = pa.array(np.arange(first_line, first_line + len(text), dtype=np.int64))
        # blank: empty or only whitespace (utf8_is_space, unlike trimming, copies nothing)
        blank = pc.or_(pc.equal(pc.binary_length(text), 0), pc.utf8_is_space(text))
        if bad_utf8:
            is_bad = pc.is_in(numbers, value_set=pa.array(bad_utf8, pa.int64()))
            blank = pc.and_(blank, pc.invert(is_bad))
            drop = pc.or_(blank, is_bad)
        else:
            drop = blank
        blanks = pc.sum(blank).as_py() or 0
        self.counts.blank += blanks
        batch = pa.table({"source_line": numbers, "line": text})
        if blanks or bad_utf8:
            batch = batch.filter(pc.invert(drop))
        rows = batch.num_rows
        batch = batch.append_column("source_file", pa.array([source_file] * rows, pa.string()))
        batch = batch.append_column("block", pa.array([block] * rows, pa.bool_()))
        self.counts.read += rows + len(bad_utf8)
        if bad_utf8:
            self._add_rejects(
                [
                    (
                        source_file,
                        n,
                        "invalid UTF-8",
                        lines[n - first_line].decode("utf-8", "replace"),
                        self.params["default_tenant"],
                    )
                    for n in bad_utf8
                ]
            )
        if rows:
            used = pc.sum(pc.binary_length(batch["line"])).as_py() or 0
            if self._queued_rows + rows < FLUSH_ROWS and used + self._queued_bytes < FLUSH_BYTES:
                # It waits in the queue: copy its lines out of the (up to 64 MiB) read buffer they share.
                batch = batch.take(pa.array(np.arange(rows)))
            self._queued.append(batch)
            self._queued_rows += rows
            self._queued_bytes += used
        if self._queued_rows >= FLUSH_ROWS or self._queued_bytes >= FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        """Normalise the queued lines in one query into `staged`; collect their dead letters."""
        if not self._queued and self._staged:
            return
        # with no lines at all, an empty batch still creates `staged` with its columns
        batch = pa.concat_tables(self._queued) if self._queued else _EMPTY_BATCH
        self._queued, self._queued_rows, self._queued_bytes = [], 0, 0
        # several record batches, so that DuckDB's threads can scan the lines in parallel
        batch = pa.Table.from_batches(batch.to_batches(max_chunksize=SCAN_ROWS), batch.schema)
        self.con.register("batch", batch)
        # Rows go straight into `staged`, rejected ones too (content-free, like the others; finish()
        # drops them). This flush's rows are those with rowid >= first_row.
        first_row = self._staged_rows
        if self._staged:
            self._staged_rows += self._scalar(f"insert into staged {self.query}", self.params)
        else:
            self.con.execute(f"create temp table staged as {self.query}", self.params)
            self._staged_rows = self._scalar("select count(*) from staged")
            self._staged = True
        rejected = self.con.execute(
            """
            select s.source_file, s.source_line, s.reject_reason,
                rtrim(b.line, case when b.block then ? else ? end), s.tenant_id
            from staged as s
            inner join batch as b using (source_file, source_line)
            where s.rowid >= ? and s.reject_reason is not null
            order by s.rowid
            """,
            ["\r\n", "\r", first_row],
        ).fetchall()
        self.con.unregister("batch")
        if rejected:
            self._add_rejects(rejected)

    def _add_rejects(self, dead: list[tuple[str, int, str, str, str | None]]) -> None:
        """Dead letters as (source_file, source_line, reason, line, tenant_id)."""
        self.counts.dead_lettered += len(dead)
        self._rejects.append(
            pa.table(
                {
                    "source_file": pa.array([d[0] for d in dead], pa.string()),
                    "source_line": pa.array([d[1] for d in dead], pa.int64()),
                    "reason": pa.array([d[2] for d in dead], pa.string()),
                    "raw_text": pa.array([redact_text(d[3]) for d in dead], pa.string()),
                    "tenant_id": pa.array([d[4] or "default" for d in dead], pa.string()),
                }
            )
        )

    # ------------------------------------------------------------------ end of run
    def finish(self) -> None:
        """Deduplicate the staged rows; afterwards `accepted()` and `rejected()` yield what is new.
        The warehouse is attached only for this step, so dlt can open it for writing afterwards."""
        self._flush()
        existing_rows = self._attach_existing()
        try:
            self._classify(existing_rows)
        finally:
            self.con.execute("detach database if exists wh")

    def _classify(self, existing_rows: bool) -> None:
        """Decide each staged row's outcome from its key columns only (the rows themselves are neither
        copied nor sorted), then delete the rows that are not new from `staged`."""
        existing = (
            "select trace_hash from wh.raw.litellm_requests" if existing_rows else "select null::varchar"
        )
        self.con.execute("delete from staged where reject_reason is not null")  # dead letters are in _rejects
        self.con.execute(
            f"""
            create or replace temp table outcome as
            select
                rowid as row_id,
                case
                    when trace_hash in ({existing}) then 'duplicate'
                    when row_number() over (partition by trace_hash order by source_file, source_line) > 1
                        then 'duplicate'
                    when $expire_before is not null and "timestamp" < $expire_before then 'expired'
                    else 'new'
                end as outcome
            from staged
            """,
            {"expire_before": self.expire_before},
        )
        for outcome, n in self.con.execute("select outcome, count(*) from outcome group by all").fetchall():
            if outcome == "duplicate":
                self.counts.duplicates = n
            elif outcome == "expired":
                self.counts.expired = n
            else:
                self.counts.loaded = n
        if self.counts.duplicates or self.counts.expired:
            self.con.execute(
                "delete from staged where rowid in (select row_id from outcome where outcome <> 'new')"
            )
        # Rows were staged chunk by chunk in the order they were read; when that is already the order of
        # (source_file, source_line), a plain scan (which keeps insertion order) needs no sort.
        self._in_order = not self.con.execute(
            """
            select count(*) from (
                select source_file, source_line,
                    lag(source_file) over w as prev_file, lag(source_line) over w as prev_line
                from staged
                window w as (order by rowid)
            )
            where prev_file > source_file or (prev_file = source_file and prev_line >= source_line)
            """
        ).fetchall()[0][0]

    def accepted(self) -> Iterator[pa.RecordBatch | pa.Table]:
        """New rows as Arrow batches, in (source_file, source_line) order; an empty table when there are
        none, so dlt still creates the table with all its columns (staging and tests can rely on it existing)."""
        order = "" if self._in_order else " order by source_file, source_line"
        reader = self.con.sql(
            f"select * exclude (reject_reason), $loaded_at::timestamptz as ingested_at from staged{order}",
            params={"loaded_at": self.loaded_at},
        ).to_arrow_reader(BATCH_ROWS)
        empty = True
        for batch in reader:
            empty = False
            yield batch
        if empty:
            yield reader.schema.empty_table()

    def rejected(self) -> Iterator[pa.Table]:
        """Dead letters with their reject_id; an empty table when there are none (see accepted)."""
        for table in self._rejects or [_EMPTY_REJECTS]:
            ids = pc.binary_join_element_wise(
                table["source_file"],
                pc.cast(table["source_line"], pa.string()),
                table["reason"],
                table["raw_text"],
                "\x1f",
            )
            yield (
                table.append_column(
                    "reject_id", pa.array([_sha1(x) for x in ids.to_pylist()], pa.string())
                ).append_column(
                    "ingested_at", pa.array([self.loaded_at] * table.num_rows, pa.timestamp("us", "UTC"))
                )
            )


_EMPTY_REJECTS = pa.table(
    {
        "source_file": pa.array([], pa.string()),
        "source_line": pa.array([], pa.int64()),
        "reason": pa.array([], pa.string()),
        "raw_text": pa.array([], pa.string()),
        "tenant_id": pa.array([], pa.string()),
    }
)


_EMPTY_BATCH = pa.table(
    {
        "source_line": pa.array([], pa.int64()),
        "line": pa.array([], pa.large_string()),
        "source_file": pa.array([], pa.string()),
        "block": pa.array([], pa.bool_()),
    }
)


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()


def _decode(raw: pa.Array) -> tuple[pa.Array, list[int]]:
    """Lines (an Arrow binary array) as an Arrow string array, plus the indexes of lines that are not
    valid UTF-8 (those become empty strings here and dead letters in the caller)."""
    try:
        return raw.cast(pa.large_string()), []
    except pa.ArrowInvalid:
        pass
    text: list[str] = []
    bad: list[int] = []
    for i, line in enumerate(raw.to_pylist()):
        try:
            text.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            text.append("")
            bad.append(i)
    return pa.array(text, pa.large_string()), bad

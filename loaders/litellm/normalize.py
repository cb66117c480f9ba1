"""Vectorised normalisation of trace lines in DuckDB.

Lines arrive as Arrow arrays and are normalised by one SQL statement over all of them, which runs while
they are read (sql/normalize.sql, stream.py). Its content-free rows, and the content-free dead letters of
the lines it rejects, go into table `staged` (a DuckDB file in the load's spill folder, so memory stays
bounded). At the end the rows are deduplicated by trace_hash against each other and against the rows
already in the warehouse, and handed on as Arrow batches.
"""

from __future__ import annotations

import hashlib
import json
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

from loaders.litellm import otel
from loaders.litellm.credentials import CREDENTIAL_PATTERN
from loaders.litellm.fields import TRACE_STRUCTURE_JSON
from loaders.litellm.files import LineBlock
from loaders.litellm.privacy import dead_letter_text, of_value
from loaders.litellm.stream import StreamingStatement

BATCH_ROWS = 20_000
# DuckDB memory of the normaliser, in MiB: its staged rows spill past it into the spill folder's DuckDB
# file. Less than ~300 MiB fails: json_transform of 2,048 lines of 5.5 KB per thread needs its room. It
# grows by LINE_MEMORY_FACTOR times the longest line seen: two 50 MB lines took ~740 MiB and one more
# 256 MiB allocation (tests/run/test_bad_input.py).
MEMORY_LIMIT_MIB = 384
LINE_MEMORY_FACTOR = 16
# Lines whose first key marks OpenTelemetry data (OTLP/JSON documents, single OTLP spans, console-exporter
# spans); otel.convert decides, and hands anything else back to the SQL path.
OTEL_LINE = r'^\s*\{\s*"(resourceSpans|resourceLogs|resourceMetrics|traceId|spanId|name|context)"'


def _sql(name: str) -> str:
    return resources.files("loaders.litellm").joinpath("sql", name).read_text()


@dataclass
class Counts:
    """What happened to the lines of one run (an OpenTelemetry line counts once per span, log record or
    data point in it). read = loaded + duplicates + dead_lettered + expired + skipped; `agent_events` is
    the part of `loaded` that went to agent_events rather than litellm_requests."""

    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    expired: int = 0
    skipped: int = 0  # OpenTelemetry spans, records and data points that are not LLM calls
    agent_events: int = 0
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
        tenant_id_pattern: str,
        loaded_at: datetime,
        warehouse: Path | None = None,
        expire_before: datetime | None = None,
        spill_dir: Path | None = None,
    ) -> None:
        if spill_dir is None:
            self.con = duckdb.connect()
        else:
            # The staged rows (content-free: normalised rows only) live in a DuckDB file inside
            # PRODLENS_HOME, so that a load's memory stays bounded whatever its size: an in-memory table
            # cannot spill, and took ~630 MB per million rows. The caller removes the folder afterwards.
            spill_dir.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(spill_dir / "staged.duckdb"))
            self.con.execute(f"set temp_directory = '{spill_dir}'")
        self._memory_limit_mib = MEMORY_LIMIT_MIB if spill_dir is not None else None
        if self._memory_limit_mib is not None:
            self.con.execute(f"set memory_limit = '{self._memory_limit_mib}MiB'")
        # settings change while the statement runs on `con`: through a second connection to the database
        self._settings = self.con.cursor()
        self.con.execute("set TimeZone = 'UTC'")
        self.con.execute("set enable_progress_bar = false")  # stdout carries only the summary line
        # the one credential rule (credentials.py), written into the macro that applies it
        pattern = CREDENTIAL_PATTERN.replace("'", "''")
        self.con.execute(_sql("macros.sql").replace("$credential_pattern", f"'{pattern}'"))
        # the dead letter of a rejected line, made inside the statement (only rejected lines call it)
        self.con.create_function(
            "pl_dead_letter", dead_letter_text, [duckdb.sqltype("varchar")], duckdb.sqltype("varchar")
        )
        self.params = {
            "structure": TRACE_STRUCTURE_JSON,
            "default_repo": default_repo,
            "default_tenant": default_tenant,
            "repo_slug_pattern": repo_slug_pattern,
            "tenant_id_pattern": tenant_id_pattern,
        }
        self.loaded_at = loaded_at
        self.expire_before = expire_before
        self.query = _sql("normalize.sql")
        self.counts = Counts()
        self.warehouse = warehouse
        self._rejects: list[pa.Table] = []
        self._events: list[dict[str, Any]] = []  # coding-agent events (otel.Activity rows)
        self._new_events: pa.Table | None = None
        self._otel_defaults = otel.Defaults(tenant=default_tenant, tenant_pattern=tenant_id_pattern)
        self._statement = StreamingStatement(
            self.con, f"create table staged as {self.query}", self.params, LINE_SCHEMA, name="normalise"
        )

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
        self._statement.cancel()
        self.release()

    def _scalar(self, sql: str, params: object = None) -> Any:
        row = self.con.execute(sql, params).fetchone()
        assert row is not None, sql
        return row[0]

    def release(self) -> None:
        """Free the staged rows once `accepted()` has handed them all on, so that dlt's load (next in the
        same process) has the memory. `rejected()` still works; nothing else does."""
        self._settings.close()
        self.con.close()

    # ------------------------------------------------------------------ per chunk
    def add(
        self,
        source_file: str,
        first_line: int,
        lines: list[bytes] | LineBlock,
        line_numbers: np.ndarray | None = None,
    ) -> None:
        """Normalise consecutive lines of one file, starting at line number `first_line` (or numbered by
        `line_numbers`, one per line, for records that are not lines of a file: database rows).

        The lines join the one normalise statement of the run (stream.py), so the lines of many small
        files (an S3 bucket with an object per request) cost no more than those of one big file."""
        if isinstance(lines, LineBlock):
            # Each line still ends with its newline: JSON ignores it, and dead letters trim it with `\r`.
            raw, block = lines.array, True
        else:
            raw, block = pa.array(lines, pa.large_binary()), False
        text, bad_index = _decode(raw)
        if line_numbers is None:
            line_numbers = np.arange(first_line, first_line + len(text), dtype=np.int64)
        bad_utf8 = [int(line_numbers[i]) for i in bad_index]
        numbers = pa.array(line_numbers, pa.int64())
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
        batch = pa.table(
            {"source_line": numbers, "source_item": pa.nulls(len(text), pa.int64()), "line": text}
        )
        if blanks or bad_utf8:
            batch = batch.filter(pc.invert(drop))
        candidates = pc.match_substring_regex(batch["line"], OTEL_LINE)
        if pc.any(candidates).as_py():
            batch = self._expand_otel(source_file, batch, candidates)
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
                        None,
                        "invalid UTF-8",
                        dead_letter_text(lines[i].decode("utf-8", "replace")),
                        self.params["default_tenant"],
                    )
                    for n, i in zip(bad_utf8, bad_index, strict=True)
                ]
            )
        if rows:
            lengths = pc.binary_length(batch["line"])
            used = pc.sum(lengths).as_py() or 0
            self._make_room(pc.max(lengths).as_py() or 0)
            if 2 * used < batch["line"].get_total_buffer_size():
                # a few lines of a big read buffer (a small gzip file): copy them out, not hold the buffer
                batch = batch.take(pa.array(np.arange(rows)))
            self._statement.put(batch)

    def _make_room(self, line_bytes: int) -> None:
        """Raise DuckDB's memory limit, before a line reaches the statement, to what parsing it needs."""
        if self._memory_limit_mib is None:
            return
        needed = MEMORY_LIMIT_MIB + -(-LINE_MEMORY_FACTOR * line_bytes // 2**20)
        if needed > self._memory_limit_mib:
            self._memory_limit_mib = needed
            self._settings.execute(f"set memory_limit = '{needed}MiB'")

    def reject_file(self, source_file: str, reason: str) -> None:
        """A dead letter for a whole file (line 0) that could not be read to its end."""
        self.counts.read += 1
        self._add_rejects(
            [(source_file, 0, None, reason, json.dumps({"file_error": reason.split(" (", 1)[0]}), None)]
        )

    def _expand_otel(self, source_file: str, batch: pa.Table, candidates: pa.Array) -> pa.Table:
        """The batch with each OpenTelemetry line replaced by the flat records of its LLM calls (one line
        per call, numbered by source_item); its agent events, skipped items and dead letters are
        counted and kept here. Lines otel.convert does not read stay as they are."""
        keep = batch.filter(pc.invert(candidates))
        lines: list[str] = []
        numbers: list[int] = []
        positions: list[int | None] = []
        dead: list[tuple[str, int, int | None, str, str, str | None]] = []
        tenant = self.params["default_tenant"]
        for n, line in zip(
            batch.filter(candidates)["source_line"].to_pylist(),
            batch.filter(candidates)["line"].to_pylist(),
            strict=True,
        ):
            try:
                value = json.loads(line)
            except (ValueError, RecursionError):
                value = None
            if not otel.is_otel(value):
                lines.append(line)
                numbers.append(n)
                positions.append(None)
                continue
            items = otel.convert(value, self._otel_defaults) or [
                otel.Skip(1, "no spans, records or data points")
            ]
            for item in items:
                if isinstance(item, otel.Request):
                    # counted as read with the rows of the batch, by the caller
                    lines.append(json.dumps(item.record, separators=(",", ":")))
                    numbers.append(n)
                    positions.append(item.index)
                    continue
                self.counts.read += 1
                if isinstance(item, otel.Activity):
                    self._events.append(
                        {**item.row, "source_file": source_file, "source_line": n, "source_item": item.index}
                    )
                elif isinstance(item, otel.Skip):
                    self.counts.skipped += 1
                else:
                    dead.append((source_file, n, item.index, item.reason, of_value(item.value), tenant))
        if dead:
            self._add_rejects(dead)
        expanded = pa.table(
            {
                "source_line": pa.array(numbers, pa.int64()),
                "source_item": pa.array(positions, pa.int64()),
                "line": pa.array(lines, pa.large_string()),
            }
        )
        return pa.concat_tables([keep, expanded])

    def _add_rejects(self, dead: list[tuple[str, int, int | None, str, str, str | None]]) -> None:
        """Dead letters as (source_file, source_line, source_item, reason, dead-letter text, tenant_id); the
        text is already content-free (privacy.dead_letter_text or privacy.of_value)."""
        self.counts.dead_lettered += len(dead)
        self._rejects.append(
            pa.table(
                {
                    "source_file": pa.array([d[0] for d in dead], pa.string()),
                    "source_line": pa.array([d[1] for d in dead], pa.int64()),
                    "source_item": pa.array([d[2] for d in dead], pa.int64()),
                    "reason": pa.array([d[3] for d in dead], pa.string()),
                    "raw_text": pa.array([d[4] for d in dead], pa.string()),
                    "tenant_id": pa.array(
                        [d[5] or self.params["default_tenant"] or "default" for d in dead], pa.string()
                    ),
                }
            )
        )

    # ------------------------------------------------------------------ end of run
    def finish(self) -> None:
        """Deduplicate the staged rows; afterwards `accepted()` and `rejected()` yield what is new.
        The warehouse is attached only for this step, so dlt can open it for writing afterwards."""
        self._statement.close()
        self._collect_rejects()
        existing_rows = self._attach_existing()
        try:
            self._classify(existing_rows)
            self._classify_events()
        finally:
            self.con.execute("detach database if exists wh")

    def _collect_rejects(self) -> None:
        """The dead letters the normalise statement made (a tenant id that breaks the rule is not
        stored, not even on its dead letter)."""
        rejected = self.con.execute(
            """
            select source_file, source_line, source_item, reject_reason, dead_letter,
                case when reject_reason = 'invalid tenant id' then null else tenant_id end
            from staged
            where reject_reason is not null
            order by source_file, source_line, source_item
            """
        ).fetchall()
        if rejected:
            self._add_rejects(rejected)

    def _classify_events(self) -> None:
        """Give each coding-agent event its id (per tenant), drop duplicates within the run and against
        raw.agent_events, and expire old ones, as `_classify` does for requests."""
        events = sorted(
            ({"event_id": otel.activity_id(e["tenant_id"], e), **e} for e in self._events),
            key=lambda e: (e["source_file"], e["source_line"], e["source_item"]),
        )
        known: set[str] = set()
        if events and self._has_warehouse_table("agent_events"):
            ids = [e["event_id"] for e in events]
            known = {
                row[0]
                for row in self.con.execute(
                    f"select event_id from wh.raw.agent_events{self._completed_filter()} "
                    "and event_id in (select unnest($ids))",
                    {"ids": ids},
                ).fetchall()
            }
        fresh: list[dict[str, Any]] = []
        seen: set[str] = set()
        for event in events:
            event_id = event["event_id"]
            if event_id in known or event_id in seen:
                self.counts.duplicates += 1
            elif self.expire_before is not None and event["timestamp"] < self.expire_before:
                self.counts.expired += 1
            else:
                seen.add(event_id)
                fresh.append(event)
        self.counts.loaded += len(fresh)
        self.counts.agent_events = len(fresh)
        self._events = []
        self._new_events = _events_table(fresh, self.loaded_at)

    def _completed_filter(self) -> str:
        """A `where` clause keeping the raw rows of completed dlt loads only (as staging does): rows a
        load left behind before its package was aborted are not there for the marts, so they must not
        make a reload count its records as duplicates. The same rows are replaced by the reload's merge."""
        if not self._has_warehouse_table("_dlt_loads"):
            return " where true"
        return " where _dlt_load_id in (select load_id from wh.raw._dlt_loads where status = 0)"

    def _has_warehouse_table(self, name: str) -> bool:
        return bool(
            self._scalar(
                "select count(*) from information_schema.tables "
                "where table_catalog = 'wh' and table_schema = 'raw' and table_name = ?",
                [name],
            )
        )

    def _classify(self, existing_rows: bool) -> None:
        """Decide each staged row's outcome from its key columns only (the rows themselves are neither
        copied nor sorted), then delete the rows that are not new from `staged`."""
        existing = (
            f"select trace_hash from wh.raw.litellm_requests{self._completed_filter()}"
            if existing_rows
            else "select null::varchar"
        )
        self.con.execute("delete from staged where reject_reason is not null")  # dead letters are in _rejects
        # A span whose parent span (same tenant and trace) is a call already loaded or loaded now is part
        # of that call (otel.py): skipped, so that one LLM call stays one row.
        existing_calls = (
            "select tenant_id, trace_id, request_id from wh.raw.litellm_requests"
            f"{self._completed_filter()} and trace_id is not null and request_id is not null"
            if existing_rows
            else "select null::varchar as tenant_id, null::varchar as trace_id, null::varchar as request_id"
        )
        self.con.execute(
            f"""
            create or replace temp table nested as
            select child.rowid as row_id
            from staged as child
            where child.parent_span_id is not null
                and exists (
                    select 1
                    from (select tenant_id, trace_id, request_id from staged union all {existing_calls}) as parent
                    where parent.tenant_id = child.tenant_id
                        and parent.trace_id = child.trace_id
                        and parent.request_id = child.parent_span_id
                )
            """
        )
        nested = self._scalar("select count(*) from nested")
        if nested:
            self.counts.skipped += nested
            self.con.execute("delete from staged where rowid in (select row_id from nested)")
        self.con.execute(
            f"""
            create or replace temp table outcome as
            select
                rowid as row_id,
                case
                    when trace_hash in ({existing}) then 'duplicate'
                    when row_number() over (partition by trace_hash order by source_file, source_line, source_item) > 1
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
                self.counts.duplicates += n
            elif outcome == "expired":
                self.counts.expired += n
            else:
                self.counts.loaded += n
        if self.counts.duplicates or self.counts.expired:
            self.con.execute(
                "delete from staged where rowid in (select row_id from outcome where outcome <> 'new')"
            )

    def accepted(self) -> Iterator[pa.RecordBatch | pa.Table]:
        """New rows as Arrow batches, unsorted: dlt's load keeps no row order (prodlens.pipeline), and every
        step that needs one names it. An empty table when there are none, so dlt still creates the table
        with all its columns (staging and tests can rely on it existing)."""
        reader = self.con.sql(
            "select * exclude (reject_reason, dead_letter), $loaded_at::timestamptz as ingested_at from staged",
            params={"loaded_at": self.loaded_at},
        ).to_arrow_reader(BATCH_ROWS)
        empty = True
        for batch in reader:
            empty = False
            yield batch
        if empty:
            yield reader.schema.empty_table()

    def events(self) -> Iterator[pa.Table]:
        """New coding-agent events (agent_events rows); an empty table when there are none."""
        yield self._new_events if self._new_events is not None else _events_table([], self.loaded_at)

    def rejected(self) -> Iterator[pa.Table]:
        """Dead letters with their reject_id; an empty table when there are none (see accepted)."""
        for table in self._rejects or [_EMPTY_REJECTS]:
            ids = pc.binary_join_element_wise(
                table["source_file"],
                pc.cast(table["source_line"], pa.string()),
                pc.fill_null(pc.cast(table["source_item"], pa.string()), ""),
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
        "source_item": pa.array([], pa.int64()),
        "reason": pa.array([], pa.string()),
        "raw_text": pa.array([], pa.string()),
        "tenant_id": pa.array([], pa.string()),
    }
)


#: The lines the normalise statement reads (relation `batch` of sql/normalize.sql).
LINE_SCHEMA = pa.schema(
    [
        ("source_line", pa.int64()),
        ("source_item", pa.int64()),
        ("line", pa.large_string()),
        ("source_file", pa.string()),
        ("block", pa.bool_()),
    ]
)


#: The columns of raw.agent_events, in order.
EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_kind", pa.string()),
        ("tenant_id", pa.string()),
        ("timestamp", pa.timestamp("us", "UTC")),
        ("event_date", pa.date32()),
        ("developer_id", pa.string()),
        ("session_id", pa.string()),
        ("tool_name", pa.string()),
        ("decision", pa.string()),
        ("decision_source", pa.string()),
        ("language", pa.string()),
        ("line_type", pa.string()),
        ("value", pa.float64()),
        ("sequence", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("source_item", pa.int64()),
        ("ingested_at", pa.timestamp("us", "UTC")),
    ]
)


def _events_table(events: list[dict[str, Any]], loaded_at: datetime) -> pa.Table:
    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    columns: dict[str, list[Any]] = {name: [] for name in EVENT_SCHEMA.names}
    for e in events:
        columns["event_id"].append(e["event_id"])
        columns["event_kind"].append(e["activity"])
        columns["tenant_id"].append(text(e["tenant_id"]))
        columns["timestamp"].append(e["timestamp"])
        columns["event_date"].append(e["timestamp"].date())
        for name in ("developer_id", "session_id", "tool_name", "decision", "decision_source", "language"):
            columns[name].append(text(e[name]))
        columns["line_type"].append(text(e["line_type"]))
        columns["value"].append(e["value"])
        columns["sequence"].append(text(e["sequence"]))
        columns["source_file"].append(e["source_file"])
        columns["source_line"].append(e["source_line"])
        columns["source_item"].append(e["source_item"])
        columns["ingested_at"].append(loaded_at)
    return pa.table(columns, schema=EVENT_SCHEMA)


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

"""Finding trace files and reading only the lines a previous run has not consumed.

A cursor per file (kept in dlt state) records how far the file was read. Plain JSONL files resume at
the byte offset, so a log the proxy appends to costs only its new lines. A file whose first bytes
changed was replaced (log rotation): it is read again from the start, and trace_hash deduplication
keeps its records from doubling. Gzip and `.json` files are re-read when they change, skipping the
lines already consumed.
"""

from __future__ import annotations

import csv
import glob
import gzip
import hashlib
import io
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import overload

import numpy as np
import pyarrow as pa

SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".json", ".csv")
#: A CSV file is read as a LiteLLM_SpendLogs export (LiteLLM's column names); it must have these columns.
SPENDLOGS_CSV_COLUMNS = ("request_id", "startTime")
#: SpendLogs columns that hold prompt and response content: never read from a CSV export.
SPENDLOGS_CONTENT_COLUMNS = frozenset({"messages", "response", "proxy_server_request"})
CSV_BATCH_ROWS = 50_000
HEAD_BYTES = 4096
CHUNK_BYTES = 32 * 1024 * 1024


class TraceFileError(ValueError):
    """A trace path that cannot be read; the message names the path and the fix."""


def accepted(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def discover(specs: list[str]) -> list[Path]:
    """Expand files, directories (recursively) and globs into a sorted list of trace files."""
    found: dict[str, Path] = {}
    for spec in specs:
        matches = (
            [Path(m) for m in glob.glob(os.path.expanduser(spec), recursive=True)]
            if glob.has_magic(spec)
            else []
        )
        if glob.has_magic(spec) and not matches:
            raise TraceFileError(
                f"no files match {spec!r}; check the pattern (quote it so the shell does not expand it)"
            )
        candidates = matches or [Path(os.path.expanduser(spec))]
        for path in candidates:
            if path.is_dir():
                for child in sorted(path.rglob("*")):
                    if child.is_file() and accepted(child):
                        found[str(child.resolve())] = child.resolve()
            elif path.is_file():
                if not accepted(path):
                    raise TraceFileError(f"{path}: not a trace file; expected one of {', '.join(SUFFIXES)}")
                found[str(path.resolve())] = path.resolve()
            elif not path.exists():
                raise TraceFileError(
                    f"{path}: no such file or directory; give a trace file, a folder or a glob"
                )
    for path in found.values():
        if not os.access(path, os.R_OK):
            raise TraceFileError(f"{path}: cannot read this file (permission denied); fix its permissions")
    return sorted(found.values())


@dataclass
class Cursor:
    """How far a file has been consumed. `offset` is a byte offset for plain files."""

    size: int = 0
    mtime_ns: int = 0
    head: str = ""
    head_len: int = 0
    offset: int = 0
    lines: int = 0

    @classmethod
    def from_state(cls, value: dict | None) -> Cursor:
        return cls(**value) if value else cls()

    def to_state(self) -> dict:
        return asdict(self)


class LineBlock:
    """Consecutive lines of a file as one Arrow array over the bytes read, without a copy per line:
    element i of `array` is line i followed by its terminating newline. Indexing gives a line's bytes
    without the newline (like an element of a list of lines); slicing gives a LineBlock."""

    __slots__ = ("array",)

    def __init__(self, array: pa.Array) -> None:
        self.array = array

    @classmethod
    def split(cls, data: bytearray, end: int) -> LineBlock:
        """The lines of `data[:end]`, which ends with a newline."""
        # one bytearray.find (memchr) per line: 3-4x faster than a numpy compare-and-nonzero over every byte
        offsets = [0]
        find, append = data.find, offsets.append
        start = 0
        while (newline := find(b"\n", start, end)) >= 0:
            start = newline + 1
            append(start)
        buffers = [None, pa.py_buffer(np.array(offsets, np.int64)), pa.py_buffer(data)]
        return cls(pa.Array.from_buffers(pa.large_binary(), len(offsets) - 1, buffers))

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> LineBlock: ...

    def __getitem__(self, index: int | slice) -> bytes | LineBlock:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self.array))
            if step != 1:
                raise ValueError("a LineBlock slices only with step 1")
            return LineBlock(self.array.slice(start, max(stop - start, 0)))
        return self.array[index].as_py()[:-1]

    def __iter__(self) -> Iterator[bytes]:
        for value in self.array:
            yield value.as_py()[:-1]


@dataclass
class Chunk:
    """Consecutive new lines of one file: `first_line` is the 1-based number of `lines[0]`. `lines` is a
    list of lines (bytes), or a LineBlock when read from a plain or gzip JSONL file."""

    first_line: int
    lines: list[bytes] | LineBlock


def _head(path: Path, length: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha1(fh.read(length)).hexdigest()


class TraceFile:
    """One trace file and the cursor of what earlier runs consumed."""

    def __init__(self, path: Path, cursor: Cursor) -> None:
        self.path = path
        self.old = cursor
        stat = path.stat()
        self.size = stat.st_size
        self.mtime_ns = stat.st_mtime_ns
        suffix = path.suffix.lower()
        self.kind = (
            "gz"
            if path.name.lower().endswith(".gz")
            else "json"
            if suffix == ".json"
            else "csv"
            if suffix == ".csv"
            else "lines"
        )
        if self.kind == "lines" and _pretty_printed(path):
            self.kind = "json"  # pretty-printed objects one after another (the SDK's console exporter)
        self.cursor = Cursor(**asdict(cursor))
        self.held_back = 0  # an unterminated last line left for a later run
        self.error: str | None = None  # why the file could not be read to its end (a dead letter's reason)

    def unchanged(self) -> bool:
        """True when the file is as the cursor left it: same size, same mtime and the same first bytes (a
        file rewritten with the same size and mtime is read again; the head costs one small read)."""
        return (
            self.old.size == self.size
            and self.old.mtime_ns == self.mtime_ns
            and self.old.head_len > 0
            and _head(self.path, self.old.head_len) == self.old.head
        )

    def _same_file(self) -> bool:
        """True when the file starts with the bytes it started with before (it grew, not replaced)."""
        if self.old.head_len == 0 or self.size < self.old.head_len:
            return False
        if self.kind == "lines" and self.size < self.old.offset:
            return False
        return _head(self.path, self.old.head_len) == self.old.head

    def chunks(self) -> Iterator[Chunk]:
        """New lines since the cursor, in chunks; updates `self.cursor` as it goes."""
        if self.unchanged():
            return
        resume = self._same_file()
        skip_lines = self.old.lines if resume else 0
        if not resume:
            self.cursor = Cursor()
        if self.kind == "json":
            yield from self._json_document(skip_lines)
        elif self.kind == "csv":
            yield from self._spendlogs_csv(skip_lines)
        elif self.kind == "gz":
            try:
                with gzip.open(self.path, "rb") as fh:
                    yield from self._split(fh, start_offset=0, skip_lines=skip_lines, first_line=1)
            except (EOFError, OSError, zlib.error) as error:
                # truncated (still being written?) or not gzip at all: keep every complete line that
                # decompresses, record the file as a dead letter, and read it again when it changes
                self.error = (
                    f"unreadable gzip ({f'{type(error).__name__}: {error}'[:200]}); its complete lines were "
                    "loaded, the rest is read when the file changes"
                )
                yield from self._salvage_gzip(max(self.cursor.lines, skip_lines))
        else:
            start = self.old.offset if resume else 0
            with open(self.path, "rb") as fh:
                fh.seek(start)
                yield from self._split(
                    fh,
                    start_offset=start,
                    skip_lines=0,
                    first_line=skip_lines + 1,
                    expected=self.size - start,
                )
        head_len = min(self.size, HEAD_BYTES)
        self.cursor.size = self.size
        self.cursor.mtime_ns = self.mtime_ns
        self.cursor.head_len = head_len
        self.cursor.head = _head(self.path, head_len)

    def _split(
        self,
        fh: io.BufferedIOBase,
        *,
        start_offset: int,
        skip_lines: int,
        first_line: int,
        expected: int | None = None,
    ) -> Iterator[Chunk]:
        """Chunks of the lines of `fh`; `expected`, when known, is how many bytes are left to read (a
        small file then gets a small buffer, not a CHUNK_BYTES one)."""
        offset = start_offset
        line_no = first_line
        pending = b""
        skipped = 0
        read = 0
        while True:
            # Read the next block after the unfinished line of the previous one, straight into one
            # buffer that the Arrow array of the block's lines then shares.
            block = CHUNK_BYTES if expected is None else min(CHUNK_BYTES, max(expected - read, 0) + 4096)
            data = bytearray(len(pending) + block)
            data[: len(pending)] = pending
            with memoryview(data) as view:
                got = fh.readinto(view[len(pending) :])
            if not got:
                break
            read += got
            end = len(pending) + got
            cut = data.rfind(b"\n", 0, end)
            if cut < 0:
                pending = bytes(data[:end])
                continue
            pending = bytes(data[cut + 1 : end])
            lines = LineBlock.split(data, cut + 1)
            del data
            offset += cut + 1
            if skipped < skip_lines:
                drop = min(skip_lines - skipped, len(lines))
                skipped += drop
                lines = lines[drop:]
                line_no += drop
            if lines:
                yield Chunk(line_no, lines)
                line_no += len(lines)
            self.cursor.offset = offset
            self.cursor.lines = line_no - 1
        if pending:
            # A last line without a newline may still be being written. Take it when it is complete JSON;
            # otherwise leave it for the next run.
            if skipped < skip_lines:
                skipped += 1
            elif _complete_json(pending):
                yield Chunk(line_no, [pending])
                line_no += 1
                offset += len(pending)
                self.cursor.offset = offset
                self.cursor.lines = line_no - 1
            else:
                self.held_back = 1

    def _salvage_gzip(self, consumed: int) -> Iterator[Chunk]:
        """The complete lines after line `consumed` that decompress from a gzip file that does not."""
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        parts: list[bytes] = []
        with open(self.path, "rb") as fh:
            while block := fh.read(1 << 20):
                try:
                    parts.append(inflate.decompress(block))
                except zlib.error:
                    break
        data = b"".join(parts)
        end = data.rfind(b"\n") + 1
        lines = data[:end].split(b"\n")[:-1] if end else []
        if end < len(data):
            self.held_back = 1
        if lines[consumed:]:
            yield Chunk(consumed + 1, lines[consumed:])
        self.cursor.lines = max(consumed, len(lines))

    def _json_document(self, skip_lines: int) -> Iterator[Chunk]:
        """A `.json` file (or a JSONL file of pretty-printed objects): a stream of JSON values, one after
        another (one document, one per line, or the SDK console exporter's concatenated pretty objects).
        An array's elements and every other value become items 1..n; text that does not parse ends the
        stream as one last item (a dead letter)."""
        raw = self.path.read_bytes()
        items = json_stream_items(raw)
        self.cursor.offset = len(raw)
        self.cursor.lines = len(items)
        if items[skip_lines:]:
            yield Chunk(skip_lines + 1, items[skip_lines:])

    def _spendlogs_csv(self, skip_lines: int) -> Iterator[Chunk]:
        """A LiteLLM_SpendLogs CSV export (psql `\\copy ... csv header`, LiteLLM's UI): each row after the
        header is item 1..n, as a JSON object under LiteLLM's column names (JSON columns such as `metadata`
        and `request_tags` parsed), so the one normaliser reads it like a SpendLogs JSON export. The
        content columns are never read, and blank cells are absent keys."""
        csv.field_size_limit(1 << 30)  # a `messages` cell can be large; it is skipped, but must be parsed
        with open(self.path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            missing = [c for c in SPENDLOGS_CSV_COLUMNS if c not in (header or [])]
            if header is None or missing:
                self.error = (
                    f"a CSV file without LiteLLM_SpendLogs' {', '.join(missing)} column(s): only SpendLogs "
                    "exports with LiteLLM's column names are read as CSV"
                )
                return
            keep = [(i, name) for i, name in enumerate(header) if name not in SPENDLOGS_CONTENT_COLUMNS]
            row_no, batch, first = 0, [], skip_lines + 1
            try:
                for cells in reader:
                    row_no += 1
                    if row_no <= skip_lines:
                        continue
                    record = {
                        name: _csv_value(cells[i]) for i, name in keep if i < len(cells) and cells[i] != ""
                    }
                    batch.append(json.dumps(record, separators=(",", ":")).encode())
                    if len(batch) >= CSV_BATCH_ROWS:
                        yield Chunk(first, batch)
                        first, batch = row_no + 1, []
            except csv.Error as error:
                self.error = (
                    f"CSV that does not parse after row {row_no} ({error}); the rows before it were loaded"
                )
            if batch:
                yield Chunk(first, batch)
        self.cursor.offset = self.size
        self.cursor.lines = max(row_no, skip_lines)


def _csv_value(cell: str) -> object:
    """A CSV cell as JSON: a cell holding a JSON object or array (SpendLogs' jsonb columns) is that value."""
    if cell[:1] in ("{", "["):
        try:
            return json.loads(cell)
        except (ValueError, RecursionError):
            return cell
    return cell


#: How much of a file may hold its first pretty-printed JSON value (console exporters print one span each).
FIRST_VALUE_BYTES = 1 << 20
#: What is read first to tell JSONL from pretty-printed JSON: a line holding more than a lone `{` or `[`
#: within it settles the question without reading FIRST_VALUE_BYTES of every file
PROBE_BYTES = 4096
_DECODER = json.JSONDecoder()


def json_stream_items(raw: bytes) -> list[bytes]:
    """The values of a stream of JSON values as compact JSON, arrays flattened into their elements; an
    unparseable rest is one last item holding that rest (it becomes a dead letter)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [raw]
    items: list[bytes] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return items
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):
            items.append(text[pos:].encode())
            return items
        values = value if isinstance(value, list) else [value]
        items += [json.dumps(v, separators=(",", ":")).encode() for v in values]


def _pretty_printed(path: Path) -> bool:
    """True when a JSONL file's first non-blank line is a lone `{` or `[` and the file's first JSON value
    parses: JSON values printed over several lines, not one per line. Otherwise (a broken `{` line
    followed by JSONL) each line is read on its own and accounted for."""
    with open(path, "rb") as fh:
        head = fh.read(PROBE_BYTES)
        rest = head.lstrip()
        if rest and rest.split(b"\n", 1)[0].strip() not in (b"{", b"["):
            return False  # the first line is not a lone `{` or `[`, whatever follows the probe
        head += fh.read(FIRST_VALUE_BYTES - len(head))
    if head.lstrip().split(b"\n", 1)[0].strip() not in (b"{", b"["):
        return False
    try:
        _DECODER.raw_decode(head.decode("utf-8", "replace").lstrip())
    except (ValueError, RecursionError):
        return False
    return True


def _complete_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True

"""The dlt source and resources of the trace loader (see __init__.py): `litellm_requests`, `agent_events`
and `litellm_rejects`, Arrow tables merged on their primary keys; per-file read cursors live in the
source's dlt state, so they advance only when the load that carries them commits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.common.schema.typing import TDeleteInsertStrategyDict
from dlt.extract import DltResource

from loaders.litellm.files import Cursor, TraceFile
from loaders.litellm.normalize import Counts, Normaliser

# The normaliser already drops duplicates within the run and against the warehouse, so dlt's merge need
# not deduplicate the staged rows again (a window over every column: 6-15 s at 1M rows). A load job
# retried after a crash could copy its file into raw_staging twice: prodlens.pipeline switches the
# deduplication back on for a package it resumes (tests/run/test_crash.py kills after each copy).
MERGE: TDeleteInsertStrategyDict = {"disposition": "merge", "strategy": "delete-insert", "deduplicated": True}


class TracePass:
    """Reads every new line of the given files once, however many resources ask for the result."""

    def __init__(
        self, files: list[Path], normaliser: Normaliser, progress: Callable[[Counts, int], None] | None = None
    ) -> None:
        self.files = files
        self.normaliser = normaliser
        self.progress = progress  # called with (counts, number of files) after each chunk of lines
        self.done = False
        self.cursors: dict[str, dict] = {}  # after run(): each file's cursor, as saved in the dlt state

    @property
    def counts(self) -> Counts:
        return self.normaliser.counts

    def run(self) -> None:
        if self.done:
            return
        cursors = dlt.current.source_state().setdefault("files", {})
        counts = self.normaliser.counts
        for path in self.files:
            counts.files += 1
            key = str(path)
            trace_file = TraceFile(path, Cursor.from_state(cursors.get(key)))
            if trace_file.unchanged():
                continue
            counts.files_changed += 1
            # reading overlaps normalising: the normaliser's statement runs in a thread of its own
            for chunk in trace_file.chunks():
                self.normaliser.add(key, chunk.first_line, chunk.lines)
                if self.progress is not None:
                    self.progress(counts, len(self.files))
            counts.held_back += trace_file.held_back
            if trace_file.error is not None:
                self.normaliser.reject_file(key, trace_file.error)
            cursors[key] = trace_file.cursor.to_state()
        self.cursors = {str(path): dict(cursors[str(path)]) for path in self.files if str(path) in cursors}
        self.normaliser.finish()
        self.done = True


@dlt.source(name="litellm", max_table_nesting=0)
def litellm_traces(work: TracePass) -> tuple[DltResource, DltResource, DltResource]:
    """LiteLLM, OpenTelemetry (OTLP/JSON, console exporter) and Claude Code trace files → raw request
    rows, agent events and dead letters. `work` reads the files; the caller keeps it to report the
    run's counts."""

    @dlt.resource(name="litellm_requests", write_disposition=MERGE, primary_key="trace_hash")
    def requests() -> Iterator[pa.RecordBatch]:
        work.run()
        yield from work.normaliser.accepted()
        work.normaliser.release()

    @dlt.resource(name="agent_events", write_disposition=MERGE, primary_key="event_id")
    def agent_events() -> Iterator[pa.Table]:
        work.run()
        yield from work.normaliser.events()

    @dlt.resource(name="litellm_rejects", write_disposition=MERGE, primary_key="reject_id")
    def rejects() -> Iterator[pa.Table]:
        work.run()
        yield from work.normaliser.rejected()

    return requests, agent_events, rejects

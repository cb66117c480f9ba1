"""`prodlens load traces`: discover files, run the dlt pipeline, record the run, report counts.

dlt is imported only past the check that some file changed: a scheduled run with nothing new does not
pay its import."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from loaders.litellm.files import TraceFileError, discover
from loaders.litellm.normalize import Counts, Normaliser
from prodlens import target
from prodlens.errors import UserError, as_user_error
from prodlens.home import Home
from prodlens.ingest import seen_files
from prodlens.names import REPO_SLUG_PATTERN, TENANT_ID_PATTERN, check_repo_slug, check_tenant_id
from prodlens.processes import alive
from prodlens.runlog import now, record_run


def load_traces(
    home: Home,
    paths: list[str],
    *,
    repo: str | None = None,
    tenant: str | None = None,
    expire_before: datetime | None = None,
    progress: Callable[[Counts, int], None] | None = None,
) -> Counts:
    """Load new lines of the trace files under `paths` into raw.litellm_requests / raw.litellm_rejects.
    `progress`, when given, is called with the running counts and the number of files after each chunk."""
    repo = check_repo_slug(repo) if repo is not None else None
    tenant = check_tenant_id(tenant) if tenant is not None else None
    with as_user_error(TraceFileError):
        files = discover(paths)
    if not files:
        raise UserError(f"no trace files (.jsonl, .ndjson, .jsonl.gz, .json) under {', '.join(paths)}")
    started = now()
    home.ensure()
    last = seen_files.unchanged(home, files)
    if last is not None:  # no file changed since the last load: dlt would find nothing
        counts = Counts(files=len(files), held_back=int(last.get("held_back", 0)))
        record_run(
            home,
            job="load-traces",
            started_at=started,
            row_count=0,
            details={"paths": [str(Path(p)) for p in paths], **vars(counts), "unchanged_files": True},
            status="success",
        )
        return counts
    from loaders.litellm import TracePass, litellm_traces
    from prodlens.ingest.tables import TRACES_PIPELINE, ensure_raw_tables
    from prodlens.pipeline import make_pipeline, run_pipeline

    seen_files.forget(home)
    work = TracePass(
        files,
        make_normaliser(
            home, started, known=known_rows(home), repo=repo, tenant=tenant, expire_before=expire_before
        ),
        progress,
    )
    pipeline = make_pipeline(home, TRACES_PIPELINE)
    try:
        run_pipeline(pipeline, litellm_traces(work), home)
    finally:
        work.normaliser.close()
        remove_spill_dirs(home)
    counts = work.counts
    ensure_raw_tables(home)  # the GitHub tables too, so that `dbt build` runs on a traces-only home
    seen_files.remember(home, work.cursors, counts.held_back)
    record_run(
        home,
        job="load-traces",
        started_at=started,
        row_count=counts.loaded,
        details={"paths": [str(Path(p)) for p in paths], **vars(counts)},
        status="success",
    )
    return counts


def known_rows(home: Home) -> Path | None:
    """The DuckDB file whose `raw` tables the normaliser deduplicates against: the working file, or on a
    lake target a copy of the lake's key columns (prodlens.ingest.lake_keys). Call it before the dlt
    pipeline runs: on a lake it reads through the pipeline's own SQL client."""
    if target.uses_lake():
        from prodlens.ingest.lake_keys import write_lake_keys

        return write_lake_keys(home, home.spill_dir() / "lake-keys.duckdb")
    return home.warehouse


def make_normaliser(
    home: Home,
    loaded_at: datetime,
    *,
    known: Path | None,
    repo: str | None = None,
    tenant: str | None = None,
    expire_before: datetime | None = None,
) -> Normaliser:
    """The trace normaliser for a load into `home`: the names rules, dedup against `known`
    (known_rows), spill files inside the home."""
    return Normaliser(
        default_repo=repo,
        default_tenant=tenant,
        repo_slug_pattern=REPO_SLUG_PATTERN,
        tenant_id_pattern=TENANT_ID_PATTERN,
        loaded_at=loaded_at,
        warehouse=known,
        expire_before=expire_before,
        spill_dir=home.spill_dir(),
    )


def remove_spill_dirs(home: Home) -> list[Path]:
    """Delete this process's spill folder and those of loaders that died (a killed load leaves DuckDB's
    spill files behind); folders of loaders still running are left alone."""
    removed: list[Path] = []
    if not home.spill_root.is_dir():
        return removed
    for folder in home.spill_root.iterdir():
        if folder.name.isdigit() and (int(folder.name) == os.getpid() or not alive(int(folder.name))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def summary_line(counts: Counts) -> str:
    """The one line `prodlens load traces` prints."""
    line = (
        f"traces: {counts.read} lines read, {counts.loaded} loaded, {counts.duplicates} duplicates, "
        f"{counts.dead_lettered} dead-lettered"
    )
    extras = []
    if counts.skipped:
        extras.append(
            f"{counts.skipped} OpenTelemetry spans, records or data points skipped (not LLM calls, or part of a parent span's call)"
        )
    if counts.agent_events:
        extras.append(f"{counts.agent_events} of those loaded are agent events")
    if counts.expired:
        extras.append(f"{counts.expired} expired (older than the retention horizon)")
    if counts.blank:
        extras.append(f"{counts.blank} blank lines skipped")
    if counts.held_back:
        extras.append(f"{counts.held_back} unfinished last line(s) left for the next run")
    extras.append(f"{counts.files_changed} of {counts.files} files had new data")
    return line + " (" + "; ".join(extras) + ")"

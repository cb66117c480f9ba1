"""The dlt pipelines ProdLens runs: one per source, all writing schema `raw` of the working file."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.common.schema.typing import MERGE_DISPOSITION_HINTS
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.extract import DltResource, DltSource

from prodlens import target
from prodlens.errors import PendingPackageStuck
from prodlens.home import Home
from prodlens.warehouse import is_lock_error, lock_error

RAW_DATASET = "raw"

# Settings that make loads crash-safe and keep row data from lingering on disk.
_DLT_SETTINGS = {
    # dlt adds _dlt_load_id to Arrow tables too, so staging can keep only completed loads.
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
    # Completed load packages hold row data: delete them once loaded.
    "LOAD__DELETE_COMPLETED_JOBS": "true",
    "DELETE_COMPLETED_JOBS": "true",
    # Empty raw_staging after each merge.
    "LOAD__TRUNCATE_STAGING_DATASET": "true",
    "TRUNCATE_STAGING_DATASET": "true",
    "RUNTIME__LOG_LEVEL": "ERROR",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}


# DuckDB memory for dlt's loads (its default is 80% of RAM): past it DuckDB spills content-free rows to a
# temp folder beside the warehouse instead of growing. (dlt's merge of a resumed package de-duplicates
# the staged rows with a window over all their columns; see deduplicate_resumed_packages.) At 1M lines
# with content (bench/ingest.py, 2026-12-06): 512 MB, 59.7 s and a peak of 819 MiB for the whole load;
# 1 GB, 51.7 s and 1,180 MiB (issue 13 asks for at most 1 GB).
DLT_MEMORY_LIMIT = "512MB"


def _credentials(home: Home) -> DuckDbCredentials:
    """The warehouse for dlt, with DLT_MEMORY_LIMIT and without insertion order. DuckDB's progress bar is
    off: it would write to stdout, which carries only the command's own output (e.g. the one summary line
    of `prodlens load traces`)."""
    # No insertion order: no model reads raw rows in an order it does not name, and keeping it made DuckDB
    # write each table on one thread. At 1M lines with content the copy into raw_staging and the merge into
    # raw took ~11 s together with it, ~5-6 s without; `prodlens load traces` as a whole: median wall
    # 36.8 s against 40.8 s, three runs each in turn (2026-12-06, bench/README.md).
    return DuckDbCredentials(
        str(home.warehouse),
        global_config={"memory_limit": DLT_MEMORY_LIMIT, "preserve_insertion_order": False},
        local_config={"enable_progress_bar": False},
    )


def _destination(home: Home) -> Any:
    """The working DuckDB file, or on a lake target (prodlens.target) dlt's filesystem destination
    writing Parquet into the lake: one folder per table under `raw/`, read by dbt-spark as external
    tables. Credentials for an s3:// or abfss:// lake come from dlt's own env or secrets
    (DESTINATION__FILESYSTEM__CREDENTIALS__...), never from ProdLens' settings."""
    if not target.uses_lake():
        return dlt.destinations.duckdb(_credentials(home))
    return dlt.destinations.filesystem(bucket_url=target.lake_url(home))


def make_pipeline(home: Home, name: str) -> dlt.Pipeline:
    """A dlt pipeline whose state and pending packages live under PRODLENS_HOME/dlt."""
    for key, value in _DLT_SETTINGS.items():
        os.environ.setdefault(key, value)
    home.ensure()
    destination = _destination(home)
    if os.environ.get("PRODLENS_PROGRESS") == "log":
        return dlt.pipeline(
            pipeline_name=name,
            pipelines_dir=str(home.dlt_dir),
            destination=destination,
            dataset_name=RAW_DATASET,
            progress="log",
        )
    return dlt.pipeline(
        pipeline_name=name, pipelines_dir=str(home.dlt_dir), destination=destination, dataset_name=RAW_DATASET
    )


def recovery_command(home: Home, pipeline_name: str) -> str:
    """The command that discards a pipeline's pending packages and rewinds its state (so their data is
    read again from the source on the next run)."""
    return f'dlt --yes pipeline --pipelines-dir "{home.dlt_dir}" {pipeline_name} abort-packages'


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        inner = getattr(current, "exception", None)
        current = inner if isinstance(inner, BaseException) else (current.__cause__ or current.__context__)
    return chain


_EXTRACT_FOLDER = re.compile(r"^[0-9a-f]{16}$")


def remove_abandoned_extracts(pipeline: dlt.Pipeline) -> list[Path]:
    """Delete the extract folders of runs that were killed before dlt committed their package.

    dlt extracts into `normalize/<random id>/` and moves the package to `normalize/extracted/` when
    the extract step completes; a killed run leaves the folder, with row data, behind for good. Its
    file cursors were not committed either, so the next run reads those lines again."""
    root = Path(pipeline.working_dir) / "normalize"
    removed = []
    if root.is_dir():
        for folder in root.iterdir():
            if folder.is_dir() and _EXTRACT_FOLDER.match(folder.name):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed


# The table hint that stores dlt's `deduplicated` merge option (loaders/litellm/source.py), as dlt names it.
DEDUPLICATED_HINT = MERGE_DISPOSITION_HINTS["deduplicated"]


def deduplicate_resumed_packages(pipeline: dlt.Pipeline) -> list[str]:
    """Switch dlt's de-duplication of staged rows back on in every normalised package left by an
    earlier run; returns the ids of the packages changed.

    A source that delivers each key once per load declares its merge `deduplicated`, so dlt inserts
    the staged rows as they are. That holds for a package loaded in one go, not for one resumed after a
    crash: a load job whose copy into raw_staging committed before the process died runs again, and its
    rows are staged twice. dlt builds a package's merge from the schema stored with the package, so
    dropping the hint there makes the merge keep one row per key for that package only."""
    changed = []
    for load_id in pipeline.list_normalized_load_packages():
        schema_file = Path(pipeline.get_load_package_info(load_id).package_path) / "schema.json"
        schema = json.loads(schema_file.read_text())
        tables = [t for t in schema["tables"].values() if t.pop(DEDUPLICATED_HINT, False)]
        if tables:
            written = schema_file.with_name(schema_file.name + ".tmp")
            written.write_text(json.dumps(schema))
            os.replace(written, schema_file)  # a kill here leaves the old schema or the new, never half
            changed.append(load_id)
    return changed


def run_pipeline(pipeline: dlt.Pipeline, data: DltSource | DltResource, home: Home) -> LoadInfo | None:
    """Run `data` through `pipeline`, turning lock failures and stuck packages into clear errors.

    A run that was killed can leave a load package behind. dlt's `run(data)` would load that package
    and return without extracting `data`, so the pending package is finished first, de-duplicated."""
    from dlt.common.schema.exceptions import DataValidationError
    from dlt.pipeline.exceptions import PipelineStepFailed

    remove_abandoned_extracts(pipeline)
    try:
        if pipeline.has_pending_data:
            deduplicate_resumed_packages(pipeline)
            pipeline.run()
        # Parquet on a lake (dlt's filesystem default for rows that are not Arrow is JSON lines)
        if target.uses_lake():
            return pipeline.run(data, loader_file_format="parquet")
        return pipeline.run(data)
    except PipelineStepFailed as exc:
        causes = _causes(exc)
        if any(is_lock_error(c) for c in causes):
            raise lock_error(home.warehouse, exc) from None
        if exc.step in ("normalize", "load") and pipeline.has_pending_data:
            contract = any(isinstance(c, DataValidationError) for c in causes)
            reason = "violates the schema contract" if contract else f"failed in dlt's {exc.step} step"
            raise PendingPackageStuck(
                f"dlt pipeline {pipeline.pipeline_name!r}: load package {exc.load_id} {reason} "
                f"({str(causes[-1]).splitlines()[0][:300]}). It is kept under {home.dlt_dir} and is retried "
                "first on every run, so every run will stop here until it loads or is discarded. If the "
                "cause is fixed (e.g. the warehouse is writable again), run again to resume; otherwise "
                f"discard the package and rewind the file cursors (its data is read again) with: "
                f"{recovery_command(home, pipeline.pipeline_name)}"
            ) from None
        raise

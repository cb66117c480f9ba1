"""The dlt pipelines ProdLens runs: one per source, all writing schema `raw` of the working file."""

from __future__ import annotations

import os

import dlt

from loaders.errors import UserError
from loaders.home import Home
from loaders.warehouse import is_lock_error, lock_error

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


def make_pipeline(home: Home, name: str) -> dlt.Pipeline:
    """A dlt pipeline whose state and pending packages live under PRODLENS_HOME/dlt."""
    for key, value in _DLT_SETTINGS.items():
        os.environ.setdefault(key, value)
    home.ensure()
    options = {"progress": "log"} if os.environ.get("PRODLENS_PROGRESS") == "log" else {}
    return dlt.pipeline(
        pipeline_name=name,
        pipelines_dir=str(home.dlt_dir),
        destination=dlt.destinations.duckdb(str(home.warehouse)),
        dataset_name=RAW_DATASET,
        **options,
    )


def run_pipeline(pipeline: dlt.Pipeline, data, home: Home):
    """Run `data` through `pipeline`, turning lock failures and stuck packages into clear errors."""
    from dlt.pipeline.exceptions import PipelineStepFailed

    try:
        return pipeline.run(data)
    except PipelineStepFailed as exc:
        if is_lock_error(exc) or (exc.__cause__ and is_lock_error(exc.__cause__)):
            raise lock_error(home.warehouse, exc) from None
        if exc.step == "load":
            raise UserError(
                f"dlt could not load pipeline {pipeline.pipeline_name!r} ({exc.__cause__ or exc}); the pending "
                f"package is kept under {home.dlt_dir}. Fix the cause and run the same command again to resume, "
                f"or discard it with: dlt pipeline --pipelines-dir {home.dlt_dir} {pipeline.pipeline_name} drop-pending-packages"
            ) from None
        raise

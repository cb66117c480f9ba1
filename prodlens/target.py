"""Which engine builds the marts: the embedded DuckDB file (the default) or Spark over a lake folder.

PRODLENS_TARGET chooses the dbt output of profiles.yml. On `embedded` the loaders write schema `raw` of
the working DuckDB file; on `spark` (and the documented `thrift` and `databricks` outputs) they write
Parquet through dlt's filesystem destination into PRODLENS_LAKE, which dbt-spark reads as external
tables (macros/spark/create_lake_sources.sql; docs/scale.md)."""

from __future__ import annotations

import os

from prodlens.errors import UserError
from prodlens.home import Home

TARGET_ENV = "PRODLENS_TARGET"
LAKE_ENV = "PRODLENS_LAKE"
EMBEDDED = "embedded"
#: the profiles.yml outputs that read the raw data from the lake
LAKE_TARGETS = frozenset({"spark", "thrift", "databricks"})


def current() -> str:
    """The dbt output PRODLENS_TARGET names (`embedded` unless set)."""
    name = os.environ.get(TARGET_ENV, "").strip() or EMBEDDED
    if name != EMBEDDED and name not in LAKE_TARGETS:
        choices = ", ".join([EMBEDDED, *sorted(LAKE_TARGETS)])
        raise UserError(f"{TARGET_ENV}={name!r} is not a ProdLens target: use one of {choices}")
    return name


def uses_lake() -> bool:
    """True when the loaders write Parquet into the lake instead of the working DuckDB file."""
    return current() in LAKE_TARGETS


def lake_url(home: Home) -> str:
    """PRODLENS_LAKE (a folder, or an s3:// / abfss:// URL), else PRODLENS_HOME/lake."""
    configured = os.environ.get(LAKE_ENV, "").strip()
    if not configured:
        return str(home.root / "lake")
    if "://" in configured:
        return configured.rstrip("/")
    return os.path.abspath(os.path.expanduser(configured))

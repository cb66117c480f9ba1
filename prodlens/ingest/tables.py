"""Every raw table the dbt sources declare exists once anything has been loaded: a table no load has
created yet (GitHub in a traces-only home, traces in a GitHub-only one) is created empty by its own
source, so its columns and types are exactly those a real load creates. The staging models then read
plain sources, and `dbt build` works on any home a load has written."""

from __future__ import annotations

from loaders.github import TABLES as GITHUB_TABLES
from loaders.github import github_tables
from loaders.litellm import TracePass, litellm_traces
from loaders.litellm.normalize import Normaliser
from prodlens import target
from prodlens.home import Home
from prodlens.ingest.identity import ensure_email_hash_table
from prodlens.names import REPO_SLUG_PATTERN, TENANT_ID_PATTERN
from prodlens.pipeline import make_pipeline, run_pipeline
from prodlens.runlog import now
from prodlens.warehouse import connect, tables_in

#: The dlt pipeline of `prodlens load traces` (its state holds the per-file cursors).
TRACES_PIPELINE = "litellm_traces"
TRACE_TABLES = frozenset({"litellm_requests", "litellm_rejects", "agent_events"})
#: A pipeline of its own that only ever creates the GitHub tables (each repository has its own pipeline).
GITHUB_TABLES_PIPELINE = "github_tables"


def _raw_tables(home: Home) -> set[str]:
    if target.uses_lake():
        from prodlens.lake import lake_tables

        return set(lake_tables(home))
    con = connect(home.warehouse)
    try:
        return set(tables_in(con, "raw"))
    finally:
        con.close()


def ensure_raw_tables(home: Home) -> list[str]:
    """Create the raw tables that no load has created yet, empty; returns their names (sorted). Does
    nothing before the first load (no working file yet)."""
    if not (home.dlt_dir.is_dir() if target.uses_lake() else home.warehouse.exists()):
        return []
    present = _raw_tables(home)
    if TRACE_TABLES - present:
        work = TracePass(
            [],
            Normaliser(
                default_repo=None,
                default_tenant=None,
                repo_slug_pattern=REPO_SLUG_PATTERN,
                tenant_id_pattern=TENANT_ID_PATTERN,
                loaded_at=now(),
                warehouse=home.warehouse,
            ),
        )
        try:
            run_pipeline(make_pipeline(home, TRACES_PIPELINE), litellm_traces(work), home)
        finally:
            work.normaliser.close()
    if set(GITHUB_TABLES) - present:
        run_pipeline(make_pipeline(home, GITHUB_TABLES_PIPELINE), github_tables(), home)
    ensure_email_hash_table(home)
    return sorted(_raw_tables(home) - present)

"""The interpreter settings of a ProdLens process that runs one command (the CLI, the dbt process)."""

from __future__ import annotations

import gc

#: The interpreter's cyclic collector runs after this many net allocations (CPython's default: 700). dbt
#: and dlt allocate millions of short-lived objects per run; at the default the collector re-traverses
#: the ~1M objects their modules hold again and again: ~1.4 s of a 17 s scheduled run at 1M rows.
GC_ALLOCATIONS = 100_000


def collect_less_often() -> None:
    """Run the cyclic collector after GC_ALLOCATIONS net allocations instead of CPython's 700."""
    gc.set_threshold(GC_ALLOCATIONS, *gc.get_threshold()[1:])

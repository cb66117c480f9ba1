"""Publishing the analyst database: a consistent copy of the marts, swapped in atomically.

Readers never open the working file. After a successful build the working file is checkpointed (so no
committed row is left only in its WAL), the marts are copied into a temporary file beside the
published one, and `os.replace` swaps it in. Readers that already have the old file open keep a
consistent old version; new readers see the new one.
"""

from __future__ import annotations

import os

from loaders.home import Home
from loaders.warehouse import connect

PUBLISHED_SCHEMAS = ("marts",)


def publish(home: Home) -> int:
    """Copy every table and view of the published schemas into PRODLENS_HOME/prodlens.duckdb.
    Returns the number of relations published."""
    tmp = home.root / f".prodlens.duckdb.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    con = connect(home.warehouse)
    try:
        con.execute("checkpoint")
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema in ? order by all",
            [list(PUBLISHED_SCHEMAS)],
        ).fetchall()
        con.execute(f"attach '{tmp}' as pub")
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f'create schema if not exists pub."{schema}"')
        for schema, table in relations:
            con.execute(f'create table pub."{schema}"."{table}" as select * from "{schema}"."{table}"')
        con.execute("checkpoint pub")
        con.execute("detach pub")
    finally:
        con.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, home.published)
    return len(relations)

"""Keyed hashes for identity matching, so commit e-mail addresses are never stored.

The key comes from PRODLENS_HASH_KEY, else from PRODLENS_HOME/hash.key, a random key created on first
use with mode 600. Commit author e-mails are stored only as HMAC-SHA256(key, normalised e-mail).

dbt cannot compute an HMAC without the key, and the key must not reach dbt (vars end up in dbt's
target files). So the loader does the one Python-side step matching needs: after each GitHub load it
writes `raw.developer_email_hashes`, the same HMAC of every trace developer id that looks like an
e-mail address. `int_developers_unified` then joins hashes to hashes, never e-mails to logins.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence

from loaders.github.rows import email_hash
from prodlens import target
from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.runlog import now
from prodlens.warehouse import column_names, connect

KEY_ENV = "PRODLENS_HASH_KEY"
EMAIL_HASH_TABLE = "developer_email_hashes"
#: the dlt pipeline that writes raw.developer_email_hashes on a lake target
EMAIL_HASH_PIPELINE = "developer_email_hashes"
KEY_FILE = "hash.key"

DDL = """
create schema if not exists raw;
create table if not exists raw.developer_email_hashes (
    developer_id varchar primary key,
    email_hash varchar not null,
    hashed_at timestamptz not null
);
"""


def hash_key(home: Home) -> bytes:
    """The HMAC key: PRODLENS_HASH_KEY, else the home's key file (created on first use, mode 600)."""
    configured = os.environ.get(KEY_ENV, "")
    if configured.strip():
        return configured.strip().encode("utf-8")
    home.ensure()
    path = home.root / KEY_FILE
    if not path.exists():
        # Write a complete file first, then link it into place: a crash never leaves a half-written key,
        # and of two concurrent first runs exactly one key wins.
        tmp = home.root / f".{KEY_FILE}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise UserError(f"{path} does not hold a usable key; set {KEY_ENV} or restore the file from a backup")
    return key.encode("ascii")


def credential_id(key: bytes, token: str | None) -> str:
    """A short keyed fingerprint of the token, so ETags are kept per token without storing it."""
    if not token:
        return "anonymous"
    digest = hmac.new(key, b"github-token\x00" + token.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"token-{digest[:12]}"


def ensure_email_hash_table(home: Home) -> None:
    """Create raw.developer_email_hashes (empty) if no GitHub load has written it yet."""
    if target.uses_lake():
        from prodlens.lake import lake_tables

        if EMAIL_HASH_TABLE not in lake_tables(home):
            _write_lake_hashes(home, [])
        return
    con = connect(home.warehouse)
    try:
        con.execute(DDL)
    finally:
        con.close()


def refresh_developer_email_hashes(home: Home, key: bytes) -> int:
    """Rewrite raw.developer_email_hashes from the trace developer ids that look like e-mail addresses.
    Returns the number of ids hashed (0 when no traces are loaded)."""
    if target.uses_lake():
        hashed_at = now()
        lake_rows = [
            {"developer_id": d, "email_hash": email_hash(key, d), "hashed_at": hashed_at}
            for d in _lake_trace_developer_ids(home)
        ]
        _write_lake_hashes(home, lake_rows)
        return len(lake_rows)
    con = connect(home.warehouse)
    try:
        con.execute(DDL)
        ids: list[str] = []
        if "developer_id" in column_names(con, "raw", "litellm_requests"):
            ids = [
                row[0]
                for row in con.execute(
                    "select distinct developer_id from raw.litellm_requests "
                    "where developer_id like '%_@_%' order by 1"
                ).fetchall()
            ]
        hashed_at = now()
        rows = [(developer_id, email_hash(key, developer_id), hashed_at) for developer_id in ids]
        con.execute("begin transaction")
        con.execute("delete from raw.developer_email_hashes")
        if rows:
            con.executemany("insert into raw.developer_email_hashes values (?, ?, ?)", rows)
        con.execute("commit")
    finally:
        con.close()
    return len(rows)


def _lake_trace_developer_ids(home: Home) -> list[str]:
    """The trace developer ids that look like e-mail addresses, read from the lake with dlt's SQL client
    (DuckDB views over the Parquet files)."""
    from prodlens.ingest.tables import TRACES_PIPELINE
    from prodlens.lake import lake_tables
    from prodlens.pipeline import make_pipeline

    if "developer_id" not in {c for c, _ in lake_tables(home).get("litellm_requests", {}).get("columns", [])}:
        return []
    with make_pipeline(home, TRACES_PIPELINE).sql_client() as client:
        rows = client.execute_sql(
            "select distinct developer_id from litellm_requests where developer_id like '%_@_%' order by 1"
        )
    return [row[0] for row in rows or []]


def _write_lake_hashes(home: Home, rows: Sequence[Mapping[str, object]]) -> None:
    """Replace raw.developer_email_hashes in the lake with `rows` (a dlt load of its own)."""
    import dlt

    from prodlens.pipeline import make_pipeline, run_pipeline

    @dlt.resource(
        name=EMAIL_HASH_TABLE,
        write_disposition="replace",
        primary_key="developer_id",
        columns={
            "developer_id": {"data_type": "text", "nullable": False},
            "email_hash": {"data_type": "text", "nullable": False},
            "hashed_at": {"data_type": "timestamp", "nullable": False},
        },
    )
    def hashes() -> Iterator[list[Mapping[str, object]]]:
        yield list(rows)

    run_pipeline(make_pipeline(home, EMAIL_HASH_PIPELINE), hashes(), home)

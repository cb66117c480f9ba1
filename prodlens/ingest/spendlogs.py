"""`prodlens load spendlogs`: LiteLLM's SpendLogs table from the proxy's Postgres database.

The connection string comes from PRODLENS_LITELLM_DATABASE_URL, or from dlt's secrets
(`[sources.litellm_spendlogs] credentials` in .dlt/secrets.toml). It is never printed, logged or stored:
errors are reported with it (and its password) replaced by `***`.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta

from loaders.litellm.normalize import Counts, Normaliser
from loaders.litellm_spendlogs import litellm_spendlogs
from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.ingest.tables import TRACES_PIPELINE, ensure_raw_tables
from prodlens.ingest.traces import known_rows, make_normaliser, remove_spill_dirs
from prodlens.names import check_tenant_id
from prodlens.pipeline import make_pipeline, run_pipeline
from prodlens.runlog import now, record_run

URL_VARIABLE = "PRODLENS_LITELLM_DATABASE_URL"
DEFAULT_LOOKBACK = timedelta(hours=1)


def database_url() -> str:
    """The SpendLogs database's connection string: the environment, else dlt's secrets."""
    url = os.environ.get(URL_VARIABLE)
    if not url:
        import dlt

        try:
            url = dlt.secrets.get("sources.litellm_spendlogs.credentials")
        except Exception:  # dlt raises when no secrets provider has the key
            url = None
    if not url:
        raise UserError(
            f"no SpendLogs database: set {URL_VARIABLE} (e.g. postgresql://user:password@host:5432/litellm) "
            "or [sources.litellm_spendlogs] credentials in .dlt/secrets.toml"
        )
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]  # psycopg 3, not SQLAlchemy's psycopg2 default
    return str(url)


def scrub(text: str, url: str) -> str:
    """`text` without the connection string or its password."""
    secrets = {url, url.split("://", 1)[-1]}
    password = re.match(r"^[^:]+://[^:/@]*:([^@]*)@", url)
    if password and password.group(1):
        secrets.add(password.group(1))
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def load_spendlogs(
    home: Home,
    *,
    lookback: timedelta = DEFAULT_LOOKBACK,
    tenant: str | None = None,
    schema: str | None = None,
) -> Counts:
    """Load SpendLogs rows newer than the cursor minus `lookback` into raw.litellm_requests /
    raw.litellm_rejects. A row already loaded (from a payload file or an earlier run) is a duplicate."""
    tenant = check_tenant_id(tenant) if tenant is not None else None
    if lookback < timedelta(0):
        raise UserError(f"--lookback-minutes must be 0 or more, got {lookback.total_seconds() / 60:g}")
    url = database_url()
    started = now()
    home.ensure()
    counts = Counts()
    known = known_rows(home)

    def normaliser() -> Normaliser:
        return make_normaliser(home, started, known=known, tenant=tenant)

    pipeline = make_pipeline(home, TRACES_PIPELINE)
    try:
        run_pipeline(pipeline, litellm_spendlogs(url, normaliser, counts, lookback, schema), home)
    except UserError as exc:
        raise type(exc)(scrub(str(exc), url)) from None
    except Exception as exc:
        raise UserError(f"spendlogs: {_first_cause(exc, url)}") from None
    finally:
        remove_spill_dirs(home)
    ensure_raw_tables(home)
    record_run(
        home,
        job="load-spendlogs",
        started_at=started,
        row_count=counts.loaded,
        details={"lookback_minutes": lookback.total_seconds() / 60, **vars(counts)},
        status="success",
    )
    return counts


def _first_cause(exc: BaseException, url: str) -> str:
    """The innermost cause's first line, scrubbed: e.g. Postgres's own 'password authentication failed'."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return scrub(line, url)[:400]


def summary_line(counts: Counts) -> str:
    """The one line `prodlens load spendlogs` prints."""
    return (
        f"spendlogs: {counts.read} rows read, {counts.loaded} loaded, {counts.duplicates} duplicates "
        f"(already loaded, or read again inside the look-back), {counts.dead_lettered} dead-lettered"
    )

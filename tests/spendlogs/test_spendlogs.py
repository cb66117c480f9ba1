"""`prodlens load spendlogs` against a real PostgreSQL with LiteLLM's own LiteLLM_SpendLogs table: first
load, appended rows, a late row inside the look-back, a re-run that loads nothing, a request also loaded
as a StandardLoggingPayload, content that must never leave the database, and a wrong password."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from prodlens.home import Home
from tests.conftest import prodlens, query, write_jsonl
from tests.spendlogs.postgres import PASSWORD, Postgres, start
from tests.traces.helpers import assert_nowhere

#: Markers planted where LiteLLM keeps content: none may reach any file or column of ProdLens.
CONTENT = {
    "messages": "PL-CANARY-MESSAGES-71c",
    "response": "PL-CANARY-RESPONSE-28d",
    "proxy_server_request": "PL-CANARY-PSR-5e0",
    "metadata.proxy_server_request": "PL-CANARY-META-PSR-a41",
    "metadata.error_information.error_message": "PL-CANARY-ERRMSG-9b2",
    "metadata.spend_logs_metadata.notes": "PL-CANARY-NOTES-3f7",
    "requester_ip_address": "PL-CANARY-IP-66a",
}
T0 = datetime(2026, 11, 30, 9, 0, 0)
BUILD_SESSIONS = (
    "--",
    "--select",
    "+sessions",
    "--exclude-resource-type",
    "test",
    "--exclude-resource-type",
    "unit_test",
)


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    server = start(tmp_path_factory.mktemp("postgres"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def db(postgres: Postgres) -> Iterator[Postgres]:
    """The server with an empty LiteLLM_SpendLogs table."""
    with postgres.connect() as con:
        con.execute('truncate "LiteLLM_SpendLogs"')
    yield postgres


def insert(server: Postgres, *rows: dict[str, Any]) -> None:
    with server.connect() as con:
        for row in rows:
            columns = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("%s" for _ in row)
            values = [json.dumps(v) if isinstance(v, dict | list) else v for v in row.values()]
            con.execute(f'insert into "LiteLLM_SpendLogs" ({columns}) values ({marks})', values)


def spend_row(n: int, start: datetime, **extra: Any) -> dict[str, Any]:
    """A SpendLogs row as LiteLLM's proxy writes it (a chat completion through a virtual key), with content
    in every place LiteLLM can keep it."""
    return {
        "request_id": f"chatcmpl-{n:04d}",
        "litellm_call_id": f"call-{n:04d}",
        "call_type": "acompletion",
        "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
        "spend": 0.000525 * n,
        "total_tokens": 150,
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "startTime": start,
        "endTime": start + timedelta(milliseconds=1500),
        "completionStartTime": start + timedelta(milliseconds=400),
        "model": "claude-sonnet-4-20250514",
        "model_group": "claude-sonnet",
        "custom_llm_provider": "anthropic",
        "api_base": "https://api.anthropic.com/v1/messages",
        "user": "",
        "cache_hit": "False",
        "request_tags": ["team:core"],
        "organization_id": "acme",
        "team_id": "core",
        "session_id": "sess-1",
        "status": "success",
        "requester_ip_address": CONTENT["requester_ip_address"],
        "messages": {"role": "user", "content": CONTENT["messages"]},
        "response": {"choices": [{"message": {"content": CONTENT["response"]}}]},
        "proxy_server_request": {"body": CONTENT["proxy_server_request"]},
        "metadata": {
            "user_api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
            "user_api_key_alias": "alice-laptop",
            "user_api_key_user_id": "alice@acme.dev",
            "user_api_key_org_id": "acme",
            "user_api_key_team_id": "core",
            "spend_logs_metadata": {
                "repo": "acme/web",
                "notes": CONTENT["metadata.spend_logs_metadata.notes"],
            },
            "proxy_server_request": CONTENT["metadata.proxy_server_request"],
            "usage_object": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
            "status": "success",
        },
        **extra,
    }


def load(home: Home, server: Postgres, *args: str, check: bool = True) -> Any:
    return prodlens(
        "load", "spendlogs", *args, home=home, env={"PRODLENS_LITELLM_DATABASE_URL": server.url}, check=check
    )


def raw(home: Home, sql: str) -> list[tuple[Any, ...]]:
    import duckdb

    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_first_load_maps_litellms_columns(home: Home, db: Postgres) -> None:
    insert(db, spend_row(1, T0), spend_row(2, T0 + timedelta(minutes=5)))
    out = load(home, db)
    assert out.stdout.startswith("spendlogs: 2 rows read, 2 loaded, 0 duplicates"), out.stdout
    rows = raw(
        home,
        "select request_id, tenant_id, developer_id, session_id, repo_slug, model, provider, tokens_in, "
        "tokens_out, latency_ms, ttft_ms, proxy_cost_usd, team_id, api_key_alias, status, "
        "strftime(\"timestamp\", '%Y-%m-%d %H:%M:%S') from raw.litellm_requests order by request_id",
    )
    first = rows[0]
    # epoch-second times in double precision: latencies are exact to a microsecond
    assert first[9:11] == pytest.approx((1500.0, 400.0), abs=1e-3)
    assert first[:9] + first[11:] == (
        "chatcmpl-0001",
        "acme",
        "alice@acme.dev",
        "sess-1",
        "acme/web",
        "anthropic/claude-sonnet-4-20250514",
        "anthropic",
        100,
        50,
        0.000525,
        "core",
        "alice-laptop",
        "success",
        "2026-11-30 09:00:00",
    )
    assert math.isclose(rows[1][11], 2 * 0.000525)


def test_appended_rows_late_rows_and_a_rerun(home: Home, db: Postgres) -> None:
    insert(db, spend_row(1, T0), spend_row(2, T0 + timedelta(minutes=30)))
    load(home, db, "--lookback-minutes", "10")
    # appended: a newer row; late: a row that committed after the last load but started 5 minutes before
    # its cursor (09:30, so inside the 10-minute look-back); too late: one started 40 minutes before it,
    # which no look-back of 10 minutes reaches
    insert(
        db,
        spend_row(3, T0 + timedelta(minutes=45)),
        spend_row(4, T0 + timedelta(minutes=25)),
        spend_row(5, T0 - timedelta(minutes=10)),
    )
    out = load(home, db, "--lookback-minutes", "10")
    # read: row 2 again (inside the look-back, a duplicate), row 4 (late) and row 3 (new)
    assert out.stdout.startswith("spendlogs: 3 rows read, 2 loaded, 1 duplicates"), out.stdout
    ids = [r[0] for r in raw(home, "select request_id from raw.litellm_requests order by 1")]
    assert ids == ["chatcmpl-0001", "chatcmpl-0002", "chatcmpl-0003", "chatcmpl-0004"]
    # nothing new: only row 3 is inside the look-back of the cursor (09:45), and it is already loaded
    again = load(home, db, "--lookback-minutes", "10")
    assert again.stdout.startswith("spendlogs: 1 rows read, 0 loaded, 1 duplicates"), again.stdout
    assert raw(home, "select count(*), count(distinct trace_hash) from raw.litellm_requests") == [(4, 4)]


def test_a_request_seen_as_payload_and_as_spendlogs_row_is_one_row(
    home: Home, db: Postgres, tmp_path: Path
) -> None:
    """The proxy's StandardLoggingPayload `id` is SpendLogs' `request_id`: loaded both ways, one row."""
    payload = {
        "id": "chatcmpl-0001",
        "trace_id": "sess-claude-code",
        "call_type": "acompletion",
        "status": "success",
        "model": "claude-sonnet-4-20250514",
        "custom_llm_provider": "anthropic",
        "startTime": T0.timestamp() - 0,
        "endTime": T0.timestamp() + 1.5,
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "response_cost": 0.000525,
        "metadata": {"user_api_key_org_id": "acme", "user_api_key_user_id": "alice@acme.dev"},
    }
    payload["startTime"] = (T0 - datetime(1970, 1, 1)).total_seconds()
    payload["endTime"] = payload["startTime"] + 1.5
    prodlens("load", "traces", str(write_jsonl(tmp_path / "payloads.jsonl", [payload])), home=home)
    insert(db, spend_row(1, T0), spend_row(2, T0 + timedelta(minutes=1)))
    out = load(home, db)
    assert out.stdout.startswith("spendlogs: 2 rows read, 1 loaded, 1 duplicates"), out.stdout
    prodlens("build", *BUILD_SESSIONS, home=home)
    rows = query(home, "select request_id, count(*) as n from marts.sessions group by 1 order by 1")
    assert rows == [{"request_id": "chatcmpl-0001", "n": 1}, {"request_id": "chatcmpl-0002", "n": 1}]
    # the payload came first: its session (Claude Code's x-litellm-session-id, logged as trace_id) stays
    first = query(home, "select session_id from marts.sessions where request_id = 'chatcmpl-0001'")
    assert first == [{"session_id": "sess-claude-code"}]


def test_content_never_leaves_the_database(home: Home, db: Postgres) -> None:
    failed = spend_row(
        2,
        T0 + timedelta(minutes=1),
        status="failure",
        metadata={
            "user_api_key_org_id": "acme",
            "status": "failure",
            "error_information": {
                "error_code": "429",
                "error_class": "RateLimitError",
                "error_message": CONTENT["metadata.error_information.error_message"],
            },
        },
    )
    insert(db, spend_row(1, T0), failed)
    load(home, db)
    prodlens("build", *BUILD_SESSIONS, home=home)
    assert raw(
        home,
        "select error_code, error_class, status from raw.litellm_requests where request_id = 'chatcmpl-0002'",
    ) == [("429", "RateLimitError", "error")]
    assert_nowhere(home, list(CONTENT.values()), kept="alice@acme.dev")


def test_a_wrong_password_is_one_clear_line_without_the_secret(home: Home, db: Postgres) -> None:
    wrong = db.url.replace(PASSWORD, "not-the-password-7d1")
    out = prodlens("load", "spendlogs", home=home, env={"PRODLENS_LITELLM_DATABASE_URL": wrong}, check=False)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert "password authentication failed" in lines[0]
    assert "not-the-password-7d1" not in out.stdout + out.stderr
    assert not [p for p in home.root.rglob("*") if p.is_file() and b"not-the-password-7d1" in p.read_bytes()]


def test_no_database_configured_says_how(home: Home) -> None:
    out = prodlens("load", "spendlogs", home=home, env={"PRODLENS_LITELLM_DATABASE_URL": ""}, check=False)
    assert out.returncode == 2
    assert "set PRODLENS_LITELLM_DATABASE_URL" in out.stderr and "Traceback" not in out.stderr


def test_spendlogs_exports_load_as_trace_files(home: Home, db: Postgres, tmp_path: Path) -> None:
    """SpendLogs exported by Postgres itself (`copy ... csv header`, `row_to_json` lines, a `json_agg`
    array like /spend/logs):
    `load traces` reads them with LiteLLM's column names (request_id, spend, organization_id), and the
    database load of the same rows finds them already there."""
    insert(db, spend_row(1, T0), spend_row(2, T0 + timedelta(minutes=1)))
    with db.connect() as con:
        lines = [
            r[0] for r in con.execute('select row_to_json(t)::text from "LiteLLM_SpendLogs" t order by 1')
        ]
        array = con.execute('select json_agg(t)::text from "LiteLLM_SpendLogs" t').fetchone()[0]
        csv_export = bytearray()
        with con.cursor().copy('copy "LiteLLM_SpendLogs" to stdout with (format csv, header)') as copy:
            for block in copy:
                csv_export += block
    (tmp_path / "rows.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "spend-logs.json").write_text(array)
    (tmp_path / "spend-logs.csv").write_bytes(bytes(csv_export))
    assert CONTENT["messages"].encode() in csv_export  # the export carries the content columns
    # the CSV first: its rows, with the jsonb columns read as JSON and no content column read
    first = prodlens("load", "traces", str(tmp_path / "spend-logs.csv"), home=home)
    assert first.stdout.startswith("traces: 2 lines read, 2 loaded, 0 duplicates, 0 dead-lettered"), (
        first.stdout
    )
    kept = raw(
        home, "select distinct team_id, api_key_alias, repo_slug, session_id from raw.litellm_requests"
    )
    assert kept == [("core", "alice-laptop", "acme/web", "sess-1")]
    out = prodlens(
        "load", "traces", str(tmp_path / "rows.jsonl"), str(tmp_path / "spend-logs.json"), home=home
    )
    assert out.stdout.startswith("traces: 4 lines read, 0 loaded, 4 duplicates, 0 dead-lettered"), out.stdout
    rows = raw(home, "select request_id, tenant_id, proxy_cost_usd from raw.litellm_requests order by 1")
    assert rows == [("chatcmpl-0001", "acme", 0.000525), ("chatcmpl-0002", "acme", 0.00105)]
    again = load(home, db)
    assert again.stdout.startswith("spendlogs: 2 rows read, 0 loaded, 2 duplicates"), again.stdout
    prodlens("build", *BUILD_SESSIONS, home=home)
    assert_nowhere(home, list(CONTENT.values()), kept="alice@acme.dev")

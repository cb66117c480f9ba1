"""Prompt/response content and credentials never reach the database or dlt's working files.

A unique marker is planted in every content and credential field (at several depths, in usable lines
and in dead letters); after a load and a build, no file under PRODLENS_HOME may contain any of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from prodlens.home import Home
from tests.conftest import BUILD_SESSIONS, prodlens, query, write_jsonl
from tests.traces.helpers import new_normaliser

CONTENT_FIELDS = [
    "messages",
    "response",
    "input",
    "output",
    "prompt",
    "completion",
    "llm.input_messages",
    "llm.output_messages.0.message.content",
    "llm.input_messages.1.message.content",
    "input.value",
    "output.value",
    "proxy_server_request",
]
CREDENTIAL_FIELDS = [
    "authorization",
    "Authorization",
    "api_key",
    "x-api-key",
    "secret",
    "password",
    "cookie",
    "access_token",
]


CONTROL = "CONTROL-7f3a9c"


def marker(field: str, where: str) -> str:
    return f"MARKER-{where}-{field}-7f3a9c".replace(".", "_")


def planted(i: int) -> tuple[dict, list[str]]:
    """A usable record with a marker in every sensitive field, top level, in metadata and in attributes."""
    markers: list[str] = []
    record: dict = {
        "id": f"priv-{i}",
        "startTime": 1760295600 + i,
        "model": "gpt-4o",
        "model_group": CONTROL,  # a kept field: proves the scans below can see what is stored
        "prompt_tokens": 10,
        "metadata": {
            "user_api_key_hash": "hash-is-kept",
            "user_api_key_user_email": "alice@acme.dev",
            "requester_metadata": {},
            "headers": {},
        },
        "attributes": {},
    }
    for field in CONTENT_FIELDS + CREDENTIAL_FIELDS:
        for where, target in (
            ("top", record),
            ("md", record["metadata"]),
            ("attr", record["attributes"]),
            ("rq", record["metadata"]["requester_metadata"]),
        ):
            value = marker(field, f"{where}{i}")
            target[field] = (
                value if field not in {"messages", "response"} else [{"role": "user", "content": value}]
            )
            markers.append(value)
    for header in ("Authorization", "x-api-key", "Cookie"):
        value = marker(header, f"hdr{i}")
        record["metadata"]["headers"][header] = f"Bearer {value}"
        markers.append(value)
    record["proxy_server_request"] = {
        "body": {"messages": [{"content": marker("body", f"psr{i}")}]},
        "headers": {"authorization": marker("auth", f"psr{i}")},
    }
    markers += [marker("body", f"psr{i}"), marker("auth", f"psr{i}")]
    return record, markers


def test_no_marker_anywhere_under_home(home: Home, tmp_path: Path) -> None:
    usable, markers = planted(1)
    rejected_time, more = planted(2)
    rejected_time["startTime"] = "not a time"  # a dead letter keeps stripped text
    markers += more
    rejected_tokens, more = planted(3)
    rejected_tokens["prompt_tokens"] = -5
    markers += more
    truncated = json.dumps(planted(4)[0])[:900]  # invalid JSON with content in it
    markers += [m for m in planted(4)[1] if m in truncated]
    log = write_jsonl(tmp_path / "traces.jsonl", [usable, rejected_time, rejected_tokens, truncated])

    out = prodlens("load", "traces", str(log), home=home).stdout
    assert "1 loaded" in out and "3 dead-lettered" in out
    build = prodlens("build", *BUILD_SESSIONS, home=home)

    # the identity fields ProdLens needs are kept
    rows = query(home, "select developer_id, api_key_hash from marts.sessions")
    assert rows == [{"developer_id": "alice@acme.dev", "api_key_hash": "hash-is-kept"}]
    dead = query(home, "select reason, raw_text from marts.rejected_traces order by source_line")
    assert [d["reason"] for d in dead] == [
        "no usable timestamp",
        "negative token count in prompt_tokens",
        "invalid JSON",
    ]
    assert '"model":"gpt-4o"' in dead[0]["raw_text"]  # the stripped text is still useful

    # DuckDB compresses strings on disk, so a byte scan alone could miss a stored marker: scan every
    # column of every table too, and check both scans on a kept control value.
    found = {}
    for db in (home.warehouse, home.published):
        with duckdb.connect(str(db), read_only=True) as con:
            tables = con.execute(
                "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
            ).fetchall()
            for schema, table in tables:
                found[f"{db.name}:{schema}.{table}"] = con.execute(
                    "select count(*) filter (where contains(cast(r as varchar), 'MARKER-')), "
                    f"count(*) filter (where contains(lower(cast(r as varchar)), '{CONTROL.lower()}')) "
                    f'from "{schema}"."{table}" as r'
                ).fetchone()
    assert not [t for t, (markers_found, _) in found.items() if markers_found], found
    assert any(control for _, control in found.values()), "the control value was not found"

    files = [p for p in home.root.rglob("*") if p.is_file()]
    assert any(p.name == "warehouse.duckdb" for p in files) and any(
        p.name == "prodlens.duckdb" for p in files
    )
    assert len(markers) > 100
    for path in files:
        data = path.read_bytes()
        leaked = [m for m in markers if m.encode() in data]
        assert not leaked, f"{path} contains {leaked[:3]}"
    for m in markers:
        assert m not in out + build.stdout + build.stderr


def test_the_staged_rows_on_disk_hold_no_content(tmp_path: Path) -> None:
    """While a load runs, its normalised rows and the dead letters made inside the normalise statement
    live in a DuckDB file in the spill folder: neither holds a planted marker (the test above sees the
    folder only after the load removed it)."""
    usable, markers = planted(1)
    rejected, more = planted(2)
    rejected["prompt_tokens"] = -5
    markers += more
    truncated = json.dumps(planted(3)[0])[:900]
    markers += [m for m in planted(3)[1] if m in truncated]
    spill = tmp_path / "spill"
    n = new_normaliser(spill_dir=spill)
    try:
        n.add(
            "/logs/priv.jsonl",
            1,
            [json.dumps(usable).encode(), json.dumps(rejected).encode(), truncated.encode()],
        )
        n._statement.close()  # the statement has written every row, before finish() drops the rejected ones
        n.con.execute("checkpoint")
        markers_found, control, dead_letters = n.con.execute(
            "select count(*) filter (where contains(cast(r as varchar), 'MARKER-')), "
            f"count(*) filter (where contains(lower(cast(r as varchar)), '{CONTROL.lower()}')), "
            "count(dead_letter) from staged as r"
        ).fetchone()
        files = [p for p in spill.rglob("*") if p.is_file()]
        assert [p.name for p in files if p.suffix == ".duckdb"] == ["staged.duckdb"]
        for path in files:
            data = path.read_bytes()
            assert not [m for m in markers if m.encode() in data], path
    finally:
        n.close()
    # the control value (a kept field) is staged for both parsed lines: the scan sees what is stored
    assert (markers_found, control, dead_letters) == (0, 2, 2)

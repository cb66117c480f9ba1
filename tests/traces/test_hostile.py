"""Hostile records: content and credentials hidden under the identity and metric fields ProdLens keeps.

A generator plants a unique canary in every whitelisted identity field (as an object, as an array, as a
credential-looking string) and in credential positions of other fields. Scalars are scalars: an object
or array under a kept field is read as null and counted in `malformed_fields`; credential-looking values
are dropped. After a load and a build no canary is in any file under PRODLENS_HOME, in any column of
either database, in the summary the loader prints, or in runs.log.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from prodlens.home import Home
from tests.conftest import BUILD_SESSIONS, prodlens, query, write_jsonl
from tests.traces.helpers import assert_nowhere, normalise

T0 = 1764000000
_counter = itertools.count()

# the whitelisted text fields a hostile record fills
IDENTITY_FIELDS = [
    ("id",),
    ("trace_id",),
    ("model",),
    ("model_group",),
    ("call_type",),
    ("developer_id",),
    ("session_id",),
    ("end_user",),
    ("metadata", "session_id"),
    ("metadata", "developer_id"),
    ("metadata", "tenant_id"),
    ("metadata", "repo"),
    ("metadata", "user_api_key_alias"),
    ("metadata", "user_api_key_hash"),
    ("metadata", "user_api_key_team_id"),
    ("metadata", "user_api_key_org_id"),
    ("metadata", "prompt_id"),
    ("metadata", "requester_metadata", "user"),
    ("error_information", "error_class"),
    ("error_information", "error_code"),
]


def canary(where: str) -> str:
    return f"CANARY{next(_counter):03d}x{where.replace('.', 'x')}"


def put(record: dict, path: tuple[str, ...], value: object) -> None:
    for key in path[:-1]:
        record = record.setdefault(key, {})
    record[path[-1]] = value


def hostile(shape: str) -> tuple[dict, list[str]]:
    """A usable record with every identity field holding a hostile value of `shape`."""
    record: dict = {"startTime": T0 + next(_counter), "prompt_tokens": 5, "completion_tokens": 1}
    planted: list[str] = []
    for path in IDENTITY_FIELDS:
        mark = canary(".".join(path))
        planted.append(mark)
        value: object = {
            "object": {"messages": [{"role": "user", "content": mark}], "authorization": f"Bearer sk-{mark}"},
            "array": [mark, {"content": mark}],
            "bearer": f"Bearer {mark}",
            "sk": f"sk-{mark}",
            "query": f"https://proxy.internal/v1?api_key={mark}",
            "basic": f"https://admin:{mark}@proxy.internal/",
        }[shape]
        put(record, path, value)
    return record, planted


def test_structured_values_under_kept_fields_are_null_and_counted() -> None:
    record, _ = hostile("object")
    rows, dead, _ = normalise([record], tenant="acme")
    assert not dead
    [row] = rows
    kept = {
        k: row[k]
        for k in (
            "request_id",
            "trace_id",
            "developer_id",
            "session_id",
            "model",
            "model_group",
            "call_type",
            "repo_slug",
            "api_key_alias",
            "api_key_hash",
            "team_id",
            "org_id",
            "prompt_id",
            "error_class",
            "error_code",
        )
    }
    assert kept == dict.fromkeys(kept)  # every one of them null
    assert row["tenant_id"] == "acme"  # the object under tenant_id is no tenant: the default applies
    assert row["malformed_fields"] == len(IDENTITY_FIELDS)
    clean, _, _ = normalise(
        [{"id": "ok", "startTime": T0, "model": "gpt-4o", "metadata": {"session_id": "s1"}}]
    )
    assert clean[0]["malformed_fields"] == 0 and clean[0]["session_id"] == "s1"


def test_credential_looking_values_are_dropped() -> None:
    for shape in ("bearer", "sk", "query", "basic"):
        record, planted = hostile(shape)
        rows, dead, _ = normalise([record])
        assert not dead, (shape, dead)
        assert not [m for m in planted if m in repr(rows)], shape


def test_no_canary_reaches_any_file_table_summary_or_log(home: Home, tmp_path: Path) -> None:
    records, planted = [], []
    for shape in ("object", "array", "bearer", "sk", "query", "basic"):
        record, marks = hostile(shape)
        record["model"] = "gpt-4o"  # one kept field, so that the scan has something to find
        records.append(record)
        planted += marks
    # a dead letter too: the same hostile fields on a record without a usable time
    dead_record, marks = hostile("object")
    dead_record["startTime"] = "never"
    records.append(dead_record)
    planted += marks
    log = write_jsonl(tmp_path / "hostile.jsonl", records)
    out = prodlens("load", "traces", str(log), home=home)
    assert "1 dead-lettered" in out.stdout, out.stdout
    build = prodlens("build", *BUILD_SESSIONS, home=home)
    printed = out.stdout + out.stderr + build.stdout + build.stderr
    assert not [m for m in planted if m in printed]
    rows = query(home, "select count(*) as n, sum(malformed_fields) as malformed from marts.sessions")
    assert rows == [{"n": 6, "malformed": 2 * (len(IDENTITY_FIELDS) - 1)}]  # objects and arrays (model kept)
    assert_nowhere(home, planted, kept="gpt-4o")

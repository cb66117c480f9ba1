"""OpenTelemetry and Claude Code telemetry in, made by the real OpenTelemetry SDK (otel_producers.py) and a
hand-written fixture of Claude Code's documented shapes: one row per LLM call, values checked one by one,
parent/child spans collapsed, agent events landed, and no planted content anywhere."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from opentelemetry.sdk.metrics.export import AggregationTemporality

from loaders.litellm import otel
from loaders.litellm.files import Cursor, TraceFile
from loaders.litellm.normalize import Counts
from loaders.litellm.privacy import dead_letter_text, skeleton
from prodlens.home import Home
from tests.conftest import prodlens, query
from tests.traces.helpers import assert_nowhere, new_normaliser
from tests.traces.otel_producers import (
    Markers,
    claude_code_logs,
    claude_code_metrics,
    genai_spans,
    write_forms,
)

FIXTURES = Path(__file__).parent / "fixtures"
COLUMNS = (
    "request_id",
    "trace_id",
    "parent_span_id",
    "tenant_id",
    "latency_ms",
    "model",
    "provider",
    "status",
    "status_code",
    "error_class",
    "tokens_in",
    "tokens_out",
    "cache_read_tokens",
    "proxy_cost_usd",
    "developer_id",
    "session_id",
    "team_id",
)


def normalise_files(
    *paths: Path, tenant: str | None = None
) -> tuple[list[dict], list[dict], list[dict], Counts]:
    """(request rows, agent events, dead letters, counts) of files read as `prodlens load traces` reads them."""
    n = new_normaliser(tenant=tenant)
    try:
        for path in paths:
            trace_file = TraceFile(path, Cursor())
            for chunk in trace_file.chunks():
                n.add(str(path), chunk.first_line, chunk.lines)
        n.finish()
        rows = [r for batch in n.accepted() for r in batch.to_pylist()]
        events = [r for table in n.events() for r in table.to_pylist()]
        dead = [r for table in n.rejected() for r in table.to_pylist()]
        counts = n.counts
    finally:
        n.close()
    assert (
        counts.read
        == counts.loaded + counts.duplicates + counts.dead_lettered + counts.expired + counts.skipped
    )
    return rows, events, dead, counts


def _pick(row: dict, columns: tuple[str, ...] = COLUMNS) -> dict[str, Any]:
    picked = {c: row[c] for c in columns}
    if picked.get("latency_ms") is not None:
        picked["latency_ms"] = round(picked["latency_ms"], 3)
    return picked


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], list, Markers]:
    mark = Markers("otel")
    spans, calls = genai_spans(mark)
    return write_forms(spans, tmp_path_factory.mktemp("otel")), calls, mark


@pytest.mark.parametrize("form", ["batch_per_line", "span_per_line", "pretty", "console", "base64_ids"])
def test_every_form_gives_one_row_per_call_with_its_values(form: str, produced: tuple) -> None:
    paths, calls, _ = produced
    rows, events, dead, counts = normalise_files(paths[form])
    assert not dead and not events
    # one span per line loses the resource and its tenant.id: the loader's default applies
    tenant = "default" if form == "span_per_line" else "acme"
    expected = sorted(
        (
            {**c.expected, "tenant_id": tenant, "latency_ms": round(c.expected["latency_ms"], 3)}
            for c in calls
        ),
        key=lambda r: r["request_id"],
    )
    assert sorted((_pick(r) for r in rows), key=lambda r: r["request_id"]) == expected
    # 4 calls; skipped: the raw_gen_ai_request inside litellm_request, the chain, the tool and the HTTP span
    assert (counts.read, counts.loaded, counts.skipped) == (8, 4, 4)


def test_a_child_span_read_after_its_parent_in_another_run_is_part_of_the_parent(
    tmp_path: Path, produced: tuple
) -> None:
    """One span per line: the parent's call is loaded first; the child, alone in a later run, is skipped
    because its parent is already in the warehouse (staging covers the opposite order)."""
    paths, _, _ = produced
    lines = paths["span_per_line"].read_text().splitlines()
    child = next(line for line in lines if '"raw_gen_ai_request"' in line)
    parents = tmp_path / "parents.jsonl"
    parents.write_text("".join(line + "\n" for line in lines if line != child))
    warehouse = tmp_path / "wh.duckdb"
    rows, *_ = normalise_files(parents)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.register("rows", pa.Table.from_pylist(rows))
        con.execute("create table raw.litellm_requests as select * from rows")
    later = tmp_path / "child.jsonl"
    later.write_text(child + "\n")
    n = new_normaliser(warehouse=warehouse)
    try:
        for chunk in TraceFile(later, Cursor()).chunks():
            n.add(str(later), chunk.first_line, chunk.lines)
        n.finish()
        assert [r for b in n.accepted() for r in b.to_pylist()] == []
        assert (n.counts.read, n.counts.loaded, n.counts.skipped) == (1, 0, 1)
    finally:
        n.close()


REQUEST_GRAIN = ("staging.stg_litellm__requests", "marts.sessions")


def _request_ids(warehouse: Path) -> dict[str, set[str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            t: {r[0] for r in con.execute(f"select request_id from {t}").fetchall()} for t in REQUEST_GRAIN
        }


def test_a_parent_span_loaded_after_its_child_removes_the_child_from_every_request_table(
    tmp_path: Path, produced: tuple
) -> None:
    """The opposite order: the child alone is loaded and built first (nothing says it is nested yet); the
    incremental build after its parent's load removes it from staging and sessions (priced), as a full
    refresh would leave it out."""
    paths, _, _ = produced
    lines = paths["span_per_line"].read_text().splitlines()
    child_line = next(line for line in lines if '"raw_gen_ai_request"' in line)
    child_id = json.loads(child_line)["spanId"]
    first, later = tmp_path / "child.jsonl", tmp_path / "parents.jsonl"
    first.write_text(child_line + "\n")
    later.write_text("".join(line + "\n" for line in lines if line != child_line))
    home = Home(tmp_path / "home")
    build = ("build", "--", "--select", "+sessions", "--exclude-resource-type", "test", "unit_test")
    prodlens("load", "traces", str(first), home=home)
    prodlens(*build, home=home)
    after_child = _request_ids(home.warehouse)
    assert all(ids == after_child["marts.sessions"] for ids in after_child.values())
    assert [i for i in after_child["marts.sessions"] if child_id in i], after_child
    prodlens("load", "traces", str(later), home=home)
    prodlens(*build, home=home)
    incremental = _request_ids(home.warehouse)
    for table, ids in incremental.items():
        assert not [i for i in ids if child_id in i], f"{table} keeps the nested span: {ids}"
    assert len(incremental["marts.sessions"]) == 4  # the four LLM calls
    prodlens(*build, "--full-refresh", home=home)
    assert _request_ids(home.warehouse) == incremental


def test_claude_code_events_and_metrics_from_the_sdk(tmp_path: Path) -> None:
    mark = Markers("cc")
    logs = tmp_path / "logs.jsonl"
    logs.write_text(json.dumps(claude_code_logs(mark)) + "\n")
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(json.dumps(claude_code_metrics()) + "\n")
    rows, events, dead, counts = normalise_files(logs, metrics)
    assert not dead
    by_id = {r["request_id"]: r for r in rows}
    ok = by_id["claude_code:cc-sess-1:1"]
    assert _pick(
        ok,
        (
            "model",
            "provider",
            "status",
            "status_code",
            "tokens_in",
            "tokens_out",
            "cache_read_tokens",
            "cache_write_tokens",
            "proxy_cost_usd",
            "latency_ms",
            "developer_id",
            "session_id",
            "tenant_id",
        ),
    ) == {
        "model": "anthropic/claude-sonnet-4-5-20250929",
        "provider": "anthropic",
        "status": "success",
        "status_code": 200,
        "tokens_in": 12 + 30000 + 1500,  # Anthropic's input_tokens exclude the cached ones
        "tokens_out": 900,
        "cache_read_tokens": 30000,
        "cache_write_tokens": 1500,
        "proxy_cost_usd": 0.0421,
        "latency_ms": 5100.0,
        "developer_id": "dana@acme.dev",
        "session_id": "cc-sess-1",
        "tenant_id": "org-7f2",  # organization.id, as no tenant.id is given
    }
    assert ok["timestamp"] == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    failed = by_id["claude_code:cc-sess-1:2"]
    assert (failed["status"], failed["status_code"], failed["error_class"]) == (
        "error",
        529,
        "claude_code.api_error",
    )
    assert len(rows) == 2
    kinds = sorted(
        (
            e["event_kind"],
            e["tool_name"],
            e["decision"],
            e["decision_source"],
            e["language"],
            e["line_type"],
            e["value"],
        )
        for e in events
    )
    assert kinds == [
        ("code_edit_decision", "Edit", "accept", "config", "Python", None, 2.0),
        ("code_edit_decision", "Write", "reject", "user_reject", "Python", None, 1.0),
        ("lines_of_code", None, None, None, None, "added", 120.0),
        ("lines_of_code", None, None, None, None, "removed", 30.0),
        ("tool_decision", "Edit", "accept", "config", None, None, 1.0),
        ("user_prompt", None, None, None, None, None, 42.0),  # the prompt's length, never its text
    ]
    assert {(e["tenant_id"], e["developer_id"], e["session_id"]) for e in events} == {
        ("org-7f2", "dana@acme.dev", "cc-sess-1")
    }
    # skipped: the tool_result event, the GenAI content event, the token.usage data point
    assert (counts.loaded, counts.agent_events, counts.skipped, counts.read) == (8, 6, 3, 11)
    assert not [m for m in mark.all if m in repr(rows) + repr(events)]


def test_claude_code_documented_shapes(tmp_path: Path) -> None:
    rows, events, dead, counts = normalise_files(
        FIXTURES / "claude_code_logs.jsonl", FIXTURES / "claude_code_metrics.jsonl", tenant="fallback"
    )
    assert not dead
    [request] = rows
    assert request["request_id"] == "claude_code:8a4f3c2e-1b7d-4e9a-9c3f-2d6b5a1e0f47:7"
    assert (request["model"], request["tokens_in"], request["tokens_out"], request["proxy_cost_usd"]) == (
        "anthropic/claude-opus-4-1-20250805",
        3 + 45000 + 2100,
        1200,
        0.1875,
    )
    assert (request["developer_id"], request["tenant_id"], request["latency_ms"]) == (
        "erin@acme.dev",
        "0f4e2b9a-6c3d-4a1e-8b7f-5d2c9e1a3b64",
        12800.0,
    )
    assert request["timestamp"] == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert sorted((e["event_kind"], e["value"]) for e in events) == [
        ("code_edit_decision", 3.0),
        ("lines_of_code", 12.0),
        ("lines_of_code", 57.0),
        ("tool_decision", 1.0),
        ("user_prompt", 64.0),
    ]
    assert counts.skipped == 1  # claude_code.cost.usage: the api_request events already carry the cost


def test_cumulative_sums_are_dead_lettered_with_the_fix(tmp_path: Path) -> None:
    metrics = tmp_path / "cumulative.jsonl"
    metrics.write_text(json.dumps(claude_code_metrics(temporality=AggregationTemporality.CUMULATIVE)) + "\n")
    rows, events, dead, counts = normalise_files(metrics)
    assert not rows and not events
    assert len(dead) == 4 and all(
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta" in d["reason"] for d in dead
    )
    assert sorted(d["source_item"] for d in dead) == [1, 2, 3, 4]
    assert counts.skipped == 1  # the token.usage data point is not read at all


def test_a_span_without_a_usable_time_is_a_content_free_dead_letter(tmp_path: Path) -> None:
    mark = Markers("dl")
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "chat",
        "startTimeUnixNano": "not a time",
        "attributes": [
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
            {"key": "gen_ai.input.messages", "value": {"stringValue": mark("input")}},
            {"key": "llm.input_messages.0.message.content", "value": {"stringValue": mark("oi")}},
        ],
    }
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(span) + "\n")
    rows, _, dead, _ = normalise_files(path)
    assert not rows
    [letter] = dead
    assert (letter["reason"], letter["source_line"], letter["source_item"]) == ("no usable timestamp", 1, 1)
    assert '"gen_ai.request.model":"gpt-4o"' in letter["raw_text"]  # a whitelisted value is kept
    assert not [m for m in mark.all if m in letter["raw_text"]]


def test_skeleton_keeps_shape_and_whitelisted_values_only() -> None:
    value = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "secret prompt"}],
        "metadata": {"user_api_key_alias": "ci-key", "note": "free text", "api_base": "https://u:pw@host/x"},
        "attributes": [
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
            {"key": "gen_ai.output.messages", "value": {"stringValue": "the answer"}},
            {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "x"}]}}},
        ],
        "prompt_tokens": 12,
        "user": "Bearer sk-abcdefghijkl",
    }
    assert skeleton(value) == {
        "model": "gpt-4o",
        "messages": "<array 1>",
        "metadata": {"user_api_key_alias": "ci-key", "note": "<string 9>", "api_base": "<string 19>"},
        "attributes": {
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.output.messages": "<string 10>",
            "tags": "<array 1>",
        },
        "prompt_tokens": 12,
        "user": "[credential removed]",
    }
    assert json.loads(dead_letter_text('{"cut": "secret')) == {
        "length": 15,
        "json_error": "Unterminated string starting at (character 8)",
    }


def test_convert_reads_only_whitelisted_scalars() -> None:
    attrs = otel.otlp_attributes(
        [
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "7"}},
            {
                "key": "session.id",
                "value": {"kvlistValue": {"values": [{"key": "messages", "value": {"stringValue": "x"}}]}},
            },
            {"key": "gen_ai.input.messages", "value": {"stringValue": "x"}},
        ]
    )
    assert attrs == {"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 7}


def test_load_and_build_keep_every_call_and_no_content_anywhere(
    home: Home, tmp_path: Path, produced: tuple
) -> None:
    """`prodlens load traces` over every form, Claude Code's logs and metrics, then `prodlens build`: one
    sessions row per call, the agent marts filled, and no marker in any file under PRODLENS_HOME or in any
    column of any table of the working and the published database, dead letters included."""
    paths, calls, mark = produced
    cc = Markers("cc-e2e")
    extra = tmp_path / "cc"
    extra.mkdir()
    (extra / "logs.jsonl").write_text(json.dumps(claude_code_logs(cc)) + "\n")
    (extra / "metrics.jsonl").write_text(json.dumps(claude_code_metrics()) + "\n")
    bad = dict(json.loads(paths["span_per_line"].read_text().splitlines()[0]))
    bad["startTimeUnixNano"] = "soon"
    (extra / "bad.jsonl").write_text(json.dumps(bad) + "\n")
    with_resource = [str(p) for form, p in paths.items() if form != "span_per_line"]
    out = prodlens("load", "traces", *with_resource, str(extra), home=home).stdout
    assert "1 dead-lettered" in out and "6 of those loaded are agent events" in out, out
    # one span per line carries no resource, so no tenant.id: given as --tenant, its spans are the same
    # calls (dedup is per tenant, so without it they would be the default tenant's rows)
    out = prodlens("load", "traces", str(paths["span_per_line"]), "--tenant", "acme", home=home).stdout
    assert "0 loaded" in out and "duplicates" in out, out
    prodlens("build", "--", "--exclude", "test_type:singular", home=home)

    sessions = query(home, "select request_id, model, status from marts.sessions order by request_id")
    assert len(sessions) == len(calls) + 2  # the four spans (in five forms) and two Claude Code requests
    assert {s["request_id"] for s in sessions} >= {c.expected["request_id"] for c in calls}
    decisions = query(
        home,
        "select tool_name, decision, source, language, signal, count from marts.code_edit_decisions "
        "order by signal, tool_name, decision",
    )
    assert decisions == [
        {
            "tool_name": "Edit",
            "decision": "accept",
            "source": "config",
            "language": None,
            "signal": "event",
            "count": 1,
        },
        {
            "tool_name": "Edit",
            "decision": "accept",
            "source": "config",
            "language": "Python",
            "signal": "metric",
            "count": 2,
        },
        {
            "tool_name": "Write",
            "decision": "reject",
            "source": "user_reject",
            "language": "Python",
            "signal": "metric",
            "count": 1,
        },
    ]
    # the prompt event carries its own time (2026-11-20); the SDK stamps the data points with today's
    activity = query(
        home,
        "select developer_id, lines_added, lines_removed, prompts, prompt_characters "
        "from marts.daily_agent_activity order by event_date",
    )
    assert activity == [
        {
            "developer_id": "dana@acme.dev",
            "lines_added": 0,
            "lines_removed": 0,
            "prompts": 1,
            "prompt_characters": 42,
        },
        {
            "developer_id": "dana@acme.dev",
            "lines_added": 120,
            "lines_removed": 30,
            "prompts": 0,
            "prompt_characters": 0,
        },
    ]
    dead = query(home, "select reason, source_item, raw_text from marts.rejected_traces")
    assert [(d["reason"], d["source_item"]) for d in dead] == [("no usable timestamp", 1)]

    assert_nowhere(home, mark.all + cc.all, kept="claude-sonnet-4-5")

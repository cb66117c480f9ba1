"""Every input shape and field rule of the trace loader, on small hand-computed examples."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from loaders.litellm.files import LineBlock
from loaders.litellm.privacy import dead_letter_text
from tests.traces.helpers import new_normaliser, normalise, one

T0 = "2025-10-12T19:00:00Z"


def ts(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- the four shapes
def test_litellm_standard_logging_payload() -> None:
    row = one(
        {
            "id": "chatcmpl-1",
            "trace_id": "t-1",
            "call_type": "acompletion",
            "status": "success",
            "model": "claude-sonnet-4-20250514",
            "model_group": "Claude-Sonnet",
            "custom_llm_provider": "anthropic",
            "startTime": 1737710446.5,
            "endTime": 1737710448.0,
            "completionStartTime": 1737710447.0,
            "prompt_tokens": 1200,
            "completion_tokens": 300,
            "total_tokens": 1500,
            "response_cost": 0.0081,
            "cache_hit": False,
            "end_user": "",
            "metadata": {
                "user_api_key_hash": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
                "user_api_key_alias": "alice-laptop",
                "user_api_key_user_id": "alice",
                "user_api_key_user_email": "alice@acme.dev",
                "user_api_key_team_id": "platform",
                "user_api_key_org_id": "acme",
                "usage_object": {"cache_read_input_tokens": 200, "cache_creation_input_tokens": 100},
            },
            "error_information": None,
        }
    )
    assert row["timestamp"] == datetime.fromtimestamp(1737710446.5, UTC)
    assert row["event_date"] == date(2025, 1, 24)
    assert row["request_id"] == "chatcmpl-1"
    assert row["trace_hash"] == hashlib.sha1(b"acme\x1fchatcmpl-1").hexdigest()  # tenant, then id
    assert row["model"] == "anthropic/claude-sonnet-4-20250514"
    assert row["provider"] == "anthropic"
    assert row["model_group"] == "claude-sonnet"
    assert (row["tokens_in"], row["tokens_out"], row["total_tokens"]) == (1200, 300, 1500)
    assert (row["cache_read_tokens"], row["cache_write_tokens"]) == (200, 100)
    assert row["latency_ms"] == pytest.approx(1500.0)
    assert row["ttft_ms"] == pytest.approx(500.0)
    assert (row["status_code"], row["status"]) == (200, "success")
    assert row["developer_id"] == "alice@acme.dev"
    assert row["tenant_id"] == "acme"
    assert (row["team_id"], row["api_key_alias"], row["org_id"]) == ("platform", "alice-laptop", "acme")
    assert row["api_key_hash"].startswith("88dc28d0")
    assert row["call_type"] == "acompletion"
    assert row["proxy_cost_usd"] == pytest.approx(0.0081)
    assert row["trace_id"] == "t-1"
    assert (row["source_file"], row["source_line"]) == ("/logs/test.jsonl", 1)


def test_openinference_export_shape() -> None:
    row = one(
        {
            "timestamp": "2025-10-12T19:00:00.250Z",
            "attributes": {
                "llm.model_name": "claude-3-5-haiku-20241022",
                "status_code": 200,
                "latency_ms": 512.5,
                "llm.token_count.prompt": 100,
                "llm.token_count.completion": 20,
                "session.id": "sess-9",
                "user.id": "bob",
                "llm.provider": "anthropic",
            },
            "usage": {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120},
            "metadata": {"developer_id": "bob@acme.dev", "session_id": "session-abc123", "repo": "Acme/API"},
        }
    )
    assert row["timestamp"] == ts(2025, 10, 12, 19, 0, 0).replace(microsecond=250000)
    assert row["model"] == "anthropic/claude-3-5-haiku-20241022"
    assert (row["tokens_in"], row["tokens_out"], row["total_tokens"]) == (100, 20, 120)
    assert row["latency_ms"] == 512.5
    assert row["status_code"] == 200
    assert row["developer_id"] == "bob@acme.dev"
    assert row["session_id"] == "abc123"
    assert row["repo_slug"] == "acme/api"
    assert row["request_id"] is None


def test_custom_callback_shape_with_offset_and_stray_z() -> None:
    row = one(
        {
            "timestamp": "2025-10-12T19:00:00.123456+00:00Z",
            "model": "openai/gpt-4o",
            "call_type": "completion",
            "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55},
            "latency_ms": 200,
            "status": "error",
            "status_code": 429,
            "metadata": {"session_id": "s1"},
            "developer_id": "carol@acme.dev",
            "error": "rate limited",
        }
    )
    assert row["timestamp"] == ts(2025, 10, 12, 19, 0, 0).replace(microsecond=123456)
    assert (row["model"], row["provider"]) == ("openai/gpt-4o", "openai")
    assert (row["status_code"], row["status"]) == (429, "error")
    assert (row["tokens_in"], row["tokens_out"]) == (50, 5)


def test_otel_genai_attributes_include_cache_in_input() -> None:
    row = one(
        {
            "timestamp": 1760295600000,
            "attributes": {
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.output_tokens": 40,
                "gen_ai.usage.cache_read.input_tokens": 600,
                "gen_ai.usage.cache_creation.input_tokens": 0,
                "gen_ai.provider.name": "openai",
            },
        }
    )
    assert row["timestamp"] == ts(2025, 10, 12, 19, 0, 0)  # milliseconds
    assert row["model"] == "openai/gpt-4o-mini-2024-07-18"  # response model before request model
    assert (row["tokens_in"], row["tokens_out"], row["cache_read_tokens"]) == (1000, 40, 600)


def test_all_shapes_in_one_file() -> None:
    rows, dead, counts = normalise(
        [
            {"startTime": 1760295600, "model": "gpt-4o", "prompt_tokens": 1},
            {"timestamp": T0, "attributes": {"llm.model_name": "gpt-4o"}},
            {"timestamp": T0, "model": "x", "usage": {"prompt_tokens": 2}, "status": "success"},
            {"timestamp": T0, "gen_ai.request.model": "y", "gen_ai.usage.input_tokens": 3},
        ]
    )
    assert not dead and len(rows) == 4
    assert sorted(r["tokens_in"] for r in rows) == [0, 1, 2, 3]
    assert counts.read == 4


# --------------------------------------------------------------------------- timestamp
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-10-12T19:00:00Z", ts(2025, 10, 12, 19)),
        ("2025-10-12T21:00:00+02:00", ts(2025, 10, 12, 19)),
        ("2025-10-12T19:00:00+00:00Z", ts(2025, 10, 12, 19)),
        ("2025-10-12 19:00:00", ts(2025, 10, 12, 19)),
        ("2025-01-24 09:20:46.847371", ts(2025, 1, 24, 9, 20, 46).replace(microsecond=847371)),
        (1760295600, ts(2025, 10, 12, 19)),
        ("1760295600", ts(2025, 10, 12, 19)),
        (1760295600.5, ts(2025, 10, 12, 19).replace(microsecond=500000)),
        (1760295600000, ts(2025, 10, 12, 19)),
    ],
)
def test_timestamp_forms(value: object, expected: datetime) -> None:
    row = one({"timestamp": value})
    assert row["timestamp"] == expected
    assert row["event_date"] == expected.date()


def test_timestamp_precedence_start_time_first() -> None:
    row = one({"startTime": 1760295600, "timestamp": "2020-01-01T00:00:00Z", "start_time": "2021-01-01"})
    assert row["timestamp"] == ts(2025, 10, 12, 19)
    row = one({"timestamp": "2020-01-01T00:00:00Z", "start_time": "2021-01-01"})
    assert row["timestamp"] == ts(2020, 1, 1)
    row = one({"start_time": "2021-01-01T05:00:00"})
    assert row["timestamp"] == ts(2021, 1, 1, 5)


def test_event_date_is_utc_date() -> None:
    assert one({"timestamp": "2025-10-12T23:30:00-02:00"})["event_date"] == date(2025, 10, 13)


# --------------------------------------------------------------------------- model and provider
@pytest.mark.parametrize(
    ("record", "model", "provider"),
    [
        (
            {"model": "Claude-Sonnet-4-20250514", "custom_llm_provider": "Anthropic"},
            "anthropic/claude-sonnet-4-20250514",
            "anthropic",
        ),
        (
            {"model": "anthropic/claude-3-5-haiku-20241022"},
            "anthropic/claude-3-5-haiku-20241022",
            "anthropic",
        ),
        ({"model": "gpt-4o"}, "gpt-4o", None),
        ({"attributes": {"llm.model_name": "gpt-4o", "llm.provider": "openai"}}, "openai/gpt-4o", "openai"),
        ({"gen_ai.request.model": "gpt-4o", "gen_ai.provider.name": "openai"}, "openai/gpt-4o", "openai"),
        ({"model": "openai/gpt-4o", "custom_llm_provider": "openai"}, "openai/gpt-4o", "openai"),
        ({"model": "gpt-4o", "attributes": {"llm.model_name": "other"}}, "gpt-4o", None),
    ],
)
def test_model_and_provider(record: dict, model: str, provider: str | None) -> None:
    row = one({"timestamp": T0, **record})
    assert (row["model"], row["provider"]) == (model, provider)


# --------------------------------------------------------------------------- tokens
@pytest.mark.parametrize(
    ("record", "tokens_in", "tokens_out", "cache_read", "cache_write"),
    [
        # prompt_tokens already includes cached tokens
        (
            {
                "usage": {
                    "prompt_tokens": 1000,
                    "completion_tokens": 50,
                    "prompt_tokens_details": {"cached_tokens": 400},
                }
            },
            1000,
            50,
            400,
            0,
        ),
        ({"prompt_tokens": 1000, "completion_tokens": 50}, 1000, 50, 0, 0),
        (
            {
                "attributes": {
                    "llm.token_count.prompt": 900,
                    "llm.token_count.completion": 9,
                    "llm.token_count.prompt_details.cache_read": 100,
                }
            },
            900,
            9,
            100,
            0,
        ),
        # Anthropic-style input_tokens excludes cached tokens: add them
        (
            {
                "usage": {
                    "input_tokens": 100,
                    "output_tokens": 10,
                    "cache_read_input_tokens": 1000,
                    "cache_creation_input_tokens": 50,
                }
            },
            1150,
            10,
            1000,
            50,
        ),
        # guard: cached tokens larger than prompt_tokens mean it excluded them
        (
            {"usage": {"prompt_tokens": 100, "completion_tokens": 1, "cache_read_input_tokens": 300}},
            400,
            1,
            300,
            0,
        ),
        # output from total minus input
        ({"usage": {"prompt_tokens": 70, "total_tokens": 100}}, 70, 30, 0, 0),
        # input from total minus output
        ({"usage": {"completion_tokens": 30, "total_tokens": 100}}, 70, 30, 0, 0),
        # usage_object of LiteLLM metadata
        (
            {"prompt_tokens": 500, "metadata": {"usage_object": {"cache_read_input_tokens": 200}}},
            500,
            0,
            200,
            0,
        ),
        # numeric strings are fine
        ({"usage": {"prompt_tokens": "12", "completion_tokens": "3.0"}}, 12, 3, 0, 0),
        # nothing given
        ({}, 0, 0, 0, 0),
    ],
)
def test_token_rules(
    record: dict, tokens_in: int, tokens_out: int, cache_read: int, cache_write: int
) -> None:
    row = one({"timestamp": T0, **record})
    assert (row["tokens_in"], row["tokens_out"]) == (tokens_in, tokens_out)
    assert (row["cache_read_tokens"], row["cache_write_tokens"]) == (cache_read, cache_write)
    assert row["total_tokens"] == tokens_in + tokens_out


# --------------------------------------------------------------------------- latency, status
def test_latency_precedence() -> None:
    assert one({"timestamp": T0, "latency_ms": 5, "duration_ms": 9})["latency_ms"] == 5
    assert one({"timestamp": T0, "attributes": {"latency_ms": 6}})["latency_ms"] == 6
    assert one({"timestamp": T0, "duration_ms": 9})["latency_ms"] == 9
    assert one({"startTime": 100_000_0000, "endTime": 100_000_0002.25})["latency_ms"] == pytest.approx(2250)
    assert one({"timestamp": T0})["latency_ms"] is None


def test_ttft_only_for_streamed_calls() -> None:
    streamed = one({"startTime": 1760295600, "endTime": 1760295602, "completionStartTime": 1760295600.4})
    assert streamed["ttft_ms"] == pytest.approx(400)
    not_streamed = one({"startTime": 1760295600, "endTime": 1760295602, "completionStartTime": 1760295602})
    assert not_streamed["ttft_ms"] is None


@pytest.mark.parametrize(
    ("record", "code", "status"),
    [
        ({"status_code": 503}, 503, "error"),
        ({"http.status_code": "404"}, 404, "error"),
        ({"attributes": {"status_code": 200}}, 200, "success"),
        ({"attributes": {"http.status_code": 201}}, 201, "success"),
        ({"status": "failure", "error_information": {"error_code": "429"}}, 429, "error"),
        ({"status": "failure", "error_information": {"error_code": "RateLimit"}}, 500, "error"),
        ({"status": "success"}, 200, "success"),
        ({"status": "failure"}, 500, "error"),
        ({}, None, "success"),
    ],
)
def test_status_code_and_status(record: dict, code: int | None, status: str) -> None:
    row = one({"timestamp": T0, **record})
    assert (row["status_code"], row["status"]) == (code, status)


# --------------------------------------------------------------------------- people and places
@pytest.mark.parametrize(
    ("record", "developer"),
    [
        ({"developer_id": "d0", "metadata": {"developer_id": "d1"}}, "d0"),
        ({"metadata": {"developer_id": "d1", "user_api_key_user_email": "e@x"}}, "d1"),
        ({"metadata": {"user_api_key_user_email": "e@x", "user_api_key_user_id": "u1"}}, "e@x"),
        ({"metadata": {"user_api_key_user_id": "u1", "requester_metadata": {"developer_id": "r1"}}}, "u1"),
        ({"metadata": {"requester_metadata": {"user": "r2"}}}, "r2"),
        ({"end_user": "eu", "attributes": {"user.id": "otel"}}, "eu"),
        ({"attributes": {"user.id": "otel"}}, "otel"),
        # values that contain "session" are skipped
        ({"developer_id": "session-42", "metadata": {"user_api_key_user_id": "u1"}}, "u1"),
        ({"developer_id": "  ", "end_user": ""}, None),
    ],
)
def test_developer_id(record: dict, developer: str | None) -> None:
    assert one({"timestamp": T0, **record})["developer_id"] == developer


@pytest.mark.parametrize(
    ("record", "session"),
    [
        ({"metadata": {"session_id": "session-abc123"}, "session_id": "top"}, "abc123"),
        ({"session_id": "session_top"}, "top"),
        ({"metadata": {"requester_metadata": {"session_id": "rq"}}}, "rq"),
        ({"attributes": {"session.id": "sessionx"}}, "sessionx"),
        ({}, None),
    ],
)
def test_session_id(record: dict, session: str | None) -> None:
    assert one({"timestamp": T0, **record})["session_id"] == session


@pytest.mark.parametrize(
    ("record", "default", "slug"),
    [
        ({"metadata": {"repo": "Acme/Web"}}, None, "acme/web"),
        ({"metadata": {"repository": "acme/api"}}, "x/y", "acme/api"),
        ({"metadata": {"repo_slug": "acme/a.b_c-d"}}, None, "acme/a.b_c-d"),
        ({"metadata": {"requester_metadata": {"repo": "acme/rq"}}}, None, "acme/rq"),
        ({"attributes": {"repo": "acme/attr"}}, None, "acme/attr"),
        ({}, "acme/default", "acme/default"),
        ({"metadata": {"repo": "../etc/passwd"}}, None, None),
        ({"metadata": {"repo": "/abs/path"}}, None, None),
        ({"metadata": {"repo": "acme\\web"}}, None, None),
        ({"metadata": {"repo": "a/b/c"}}, None, None),
        ({"metadata": {"repo": "../.."}}, None, None),
        ({"metadata": {"repo": "acme/.."}}, None, None),
    ],
)
def test_repo_slug(record: dict, default: str | None, slug: str | None) -> None:
    assert one({"timestamp": T0, **record}, repo=default)["repo_slug"] == slug


@pytest.mark.parametrize(
    ("where", "value", "flag"),
    [
        ("attributes", {"prod_lens.accepted": True}, 1),
        ("attributes", {"accepted": "yes"}, 1),
        ("metadata", {"accepted_flag": 1}, 1),
        ("metadata", {"accepted": "true"}, 1),
        ("metadata", {"accepted": "0"}, 0),
        ("metadata", {"accepted": False}, 0),
        ("metadata", {}, 0),
    ],
)
def test_accepted_flag(where: str, value: dict, flag: int) -> None:
    assert one({"timestamp": T0, where: value})["accepted_flag"] == flag


def test_diff_ratio_and_accepted_lines_ranges() -> None:
    ok = one({"timestamp": T0, "metadata": {"diff_ratio": 0.75, "accepted_lines": 42}})
    assert (ok["diff_ratio"], ok["accepted_lines"]) == (0.75, 42)
    attrs = one({"timestamp": T0, "attributes": {"diff_ratio": "1", "accepted_lines": "0"}})
    assert (attrs["diff_ratio"], attrs["accepted_lines"]) == (1.0, 0)
    bad = one({"timestamp": T0, "metadata": {"diff_ratio": 1.5, "accepted_lines": -3}})
    assert (bad["diff_ratio"], bad["accepted_lines"]) == (None, None)
    frac = one({"timestamp": T0, "metadata": {"diff_ratio": -0.1, "accepted_lines": 2.5}})
    assert (frac["diff_ratio"], frac["accepted_lines"]) == (None, None)


def test_tenant_precedence() -> None:
    assert (
        one({"timestamp": T0, "metadata": {"tenant_id": "t1", "user_api_key_org_id": "o1"}})["tenant_id"]
        == "t1"
    )
    assert (
        one({"timestamp": T0, "metadata": {"user_api_key_org_id": "o1"}}, tenant="cli")["tenant_id"] == "o1"
    )
    assert one({"timestamp": T0}, tenant="cli")["tenant_id"] == "cli"
    assert one({"timestamp": T0})["tenant_id"] == "default"


def test_request_id_sources() -> None:
    # request_id (LiteLLM_SpendLogs' key, the payload's id) wins over litellm_call_id
    assert one({"timestamp": T0, "litellm_call_id": "c1", "request_id": "r1"})["request_id"] == "r1"
    assert one({"timestamp": T0, "litellm_call_id": "c1"})["request_id"] == "c1"
    assert one({"timestamp": T0, "request_id": "r1"})["request_id"] == "r1"
    assert one({"timestamp": T0, "context": {"span_id": "s1"}})["request_id"] == "s1"


def test_prompt_and_experiment_fields() -> None:
    row = one(
        {
            "timestamp": T0,
            "metadata": {
                "prompt_management_metadata": {
                    "prompt_id": "p",
                    "prompt_version": "v2",
                    "experiment_id": "e",
                    "variant": "control",
                }
            },
        }
    )
    assert (row["prompt_id"], row["prompt_version"], row["experiment_id"], row["variant"]) == (
        "p",
        "v2",
        "e",
        "control",
    )
    assert (
        one(
            {
                "timestamp": T0,
                "metadata": {"prompt_id": "top", "prompt_management_metadata": {"prompt_id": "pm"}},
            }
        )["prompt_id"]
        == "top"
    )


# --------------------------------------------------------------------------- trace hash
def test_trace_hash_collapses_reexported_copies_without_id() -> None:
    record = {"timestamp": T0, "model": "gpt-4o", "usage": {"prompt_tokens": 5}, "developer_id": "d"}
    reexported = {
        "timestamp": "2025-10-12T21:00:00+02:00",
        "model": "GPT-4o",
        "prompt_tokens": "5",
        "metadata": {"developer_id": "d"},
        "extra": "ignored",
    }
    rows, _, counts = normalise([record, reexported])
    assert len(rows) == 1
    assert counts.duplicates == 1


def test_distinct_ids_stay_distinct_even_when_all_else_matches() -> None:
    base = {"timestamp": T0, "model": "gpt-4o", "usage": {"prompt_tokens": 5}}
    rows, _, counts = normalise([{**base, "id": "a"}, {**base, "id": "b"}, {**base, "id": "a"}])
    assert sorted(r["request_id"] for r in rows) == ["a", "b"]
    assert {r["trace_hash"] for r in rows} == {
        hashlib.sha1(b"default\x1fa").hexdigest(),
        hashlib.sha1(b"default\x1fb").hexdigest(),
    }
    assert counts.duplicates == 1


def test_a_negative_cost_is_a_dead_letter() -> None:
    rows, dead, _ = normalise(
        [
            {"id": "a", "timestamp": T0, "response_cost": -0.5},
            {"id": "b", "timestamp": T0, "attributes": {"llm.cost.total": "-1e-9"}},
            {"id": "c", "timestamp": T0, "response_cost": 0},
        ]
    )
    assert [r["request_id"] for r in rows] == ["c"]
    assert [d["reason"] for d in dead] == [
        "negative cost (response_cost, llm.cost.total or gen_ai.cost.*)"
    ] * 2


def test_dedup_stays_within_a_tenant() -> None:
    """Another tenant's records with the same ids, or identical id-less records, are its own rows: nobody
    who can predict ids can suppress another tenant's data."""
    base = {"timestamp": T0, "model": "gpt-4o", "usage": {"prompt_tokens": 5}}
    records = [
        {**base, "id": "same", "metadata": {"tenant_id": "t1"}},
        {**base, "id": "same", "metadata": {"tenant_id": "t2"}},
        {**base, "metadata": {"tenant_id": "t1"}},
        {**base, "metadata": {"tenant_id": "t2"}},
        {**base, "id": "same", "metadata": {"tenant_id": "t1"}},  # a real duplicate within t1
    ]
    rows, _, counts = normalise(records)
    assert sorted((r["tenant_id"], r["request_id"] or "") for r in rows) == [
        ("t1", ""),
        ("t1", "same"),
        ("t2", ""),
        ("t2", "same"),
    ]
    assert counts.duplicates == 1
    assert len({r["trace_hash"] for r in rows}) == 4


def test_trace_hash_differs_when_normalised_fields_differ() -> None:
    rows, _, _ = normalise([{"timestamp": T0, "prompt_tokens": 5}, {"timestamp": T0, "prompt_tokens": 6}])
    assert len({r["trace_hash"] for r in rows}) == 2


def test_lines_of_many_small_files_share_one_query_and_keep_their_files() -> None:
    """The lines of small files go through the run's one normalise statement; rows and dead letters keep
    their own file and line even when the line numbers repeat across files, and raw text is trimmed per
    origin."""
    n = new_normaliser()
    queries: list[str] = []
    n.con = n._statement._con = _Recording(n.con, queries)
    try:
        good = {"id": "r1", "model": "gpt-4o", "startTime": 1735689600, "endTime": 1735689601}
        for k in range(3):  # line 1 bad, line 2 good, in each of three files
            data = bytearray(f'{{"cut": {k}\n{json.dumps({**good, "id": f"r{k}"})}\n'.encode())
            n.add(f"/s3/part-{k}.jsonl", 1, LineBlock.split(data, len(data)))
        n.add("/s3/doc.json", 1, [b"not json"])  # a .json document: no newline to trim
        n.finish()
        assert sum(q.startswith("create table staged as") or "insert into staged" in q for q in queries) == 1
        rows = [r for batch in n.accepted() for r in pa.Table.from_batches([batch]).to_pylist()]
        dead = sorted(
            (d["source_file"], d["source_line"], d["raw_text"]) for t in n.rejected() for d in t.to_pylist()
        )
    finally:
        n.close()
    assert sorted((r["source_file"], r["source_line"], r["request_id"]) for r in rows) == [
        (f"/s3/part-{k}.jsonl", 2, f"r{k}") for k in range(3)
    ]
    # each dead letter keeps its own line's content-free skeleton (here: its length and the parse error)
    assert dead == [("/s3/doc.json", 1, dead_letter_text("not json"))] + [
        (f"/s3/part-{k}.jsonl", 1, dead_letter_text(f'{{"cut": {k}')) for k in range(3)
    ]


class _Recording:
    """A DuckDB connection that records the SQL it executes."""

    def __init__(self, con, queries: list[str]) -> None:
        self._con, self._queries = con, queries

    def execute(self, sql: str, *args):
        self._queries.append(sql)
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


@pytest.mark.parametrize(
    "tenant", ["../../etc", "", " ", "x\ny", "tenant=evil", ".hidden", "_x", "a" * 65, "a/b"]
)
def test_a_record_with_an_invalid_tenant_id_is_dead_lettered(tenant: str) -> None:
    rows, dead, _ = normalise(
        [{"id": "a", "timestamp": T0, "metadata": {"tenant_id": tenant}}], tenant="fallback"
    )
    if not tenant.strip():
        # a blank tenant is no tenant: the loader's default applies
        assert [r["tenant_id"] for r in rows] == ["fallback"] and not dead
        return
    assert not rows
    assert [(d["reason"], d["tenant_id"]) for d in dead] == [("invalid tenant id", "fallback")]


@pytest.mark.parametrize("tenant", ["acme", "0f4e2b9a-6c3d-4a1e-8b7f-5d2c9e1a3b64", "Team.A_1", "a" * 64])
def test_valid_tenant_ids_pass_unchanged(tenant: str) -> None:
    rows, dead, _ = normalise([{"id": "a", "timestamp": T0, "metadata": {"tenant_id": tenant}}])
    assert not dead and [r["tenant_id"] for r in rows] == [tenant]


HEADERS = {
    "x-prodlens-repo": "Acme/Web",
    "x-prodlens-developer": "dana@acme.dev",
    "x-prodlens-session": "s-hdr",
}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        # LiteLLM logs Claude Code's x-litellm-session-id as trace_id: the session when nothing else is given
        ({"trace_id": "cc-session-1"}, {"session_id": "cc-session-1"}),
        ({"trace_id": "t", "metadata": {"session_id": "explicit"}}, {"session_id": "explicit"}),
        # custom headers through the proxy: repo, developer and session
        (
            {"trace_id": "t", "metadata": {"requester_custom_headers": HEADERS}},
            {"session_id": "s-hdr", "developer_id": "dana@acme.dev", "repo_slug": "acme/web"},
        ),
        # metadata wins over headers
        (
            {"metadata": {"repo": "acme/api", "developer_id": "erin", "requester_custom_headers": HEADERS}},
            {"repo_slug": "acme/api", "developer_id": "erin", "session_id": "s-hdr"},
        ),
        # LiteLLM_SpendLogs' columns: request_id is the id (not litellm_call_id), spend the proxy cost,
        # organization_id the tenant, team_id the team, user the developer, the error in metadata
        (
            {
                "request_id": "chatcmpl-1",
                "litellm_call_id": "call-1",
                "spend": 0.25,
                "organization_id": "globex",
                "team_id": "core",
                "user": "frank",
                "status": "failure",
                "metadata": {"error_information": {"error_code": "429", "error_class": "RateLimitError"}},
            },
            {
                "request_id": "chatcmpl-1",
                "proxy_cost_usd": 0.25,
                "tenant_id": "globex",
                "team_id": "core",
                "developer_id": "frank",
                "status": "error",
                "status_code": 429,
                "error_code": "429",
                "error_class": "RateLimitError",
            },
        ),
        # empty strings are no values
        (
            {"error_information": {"error_code": "", "error_class": ""}, "model_group": ""},
            {"error_code": None, "error_class": None, "model_group": None},
        ),
    ],
)
def test_litellm_attribution_and_spendlogs_columns(record: dict, expected: dict) -> None:
    row = one({"timestamp": T0, "model": "gpt-4o", **record})
    assert {k: row[k] for k in expected} == expected

"""OpenTelemetry data made by the real OpenTelemetry Python SDK, written in the forms users have.

Spans, log records and metric data points are recorded with the SDK (TracerProvider, LoggerProvider,
MeterProvider with in-memory exporters), encoded with the SDK's own OTLP encoder
(opentelemetry-exporter-otlp-proto-common) and mapped to JSON with protobuf's JSON mapping; ids are then
written as hex, as the OTLP/JSON specification and the Collector's `file` exporter do (the protobuf
mapping alone gives base64, which ProdLens reads too). Console output is the SDK's ConsoleSpanExporter
itself. Every content-bearing attribute, event and body holds a unique marker.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode, set_span_in_context

T0 = int(datetime(2026, 11, 20, 9, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
MS = 1_000_000


@dataclass
class Markers:
    """Unique markers planted in content; `all` lists every one."""

    tag: str
    all: list[str] = field(default_factory=list)

    def __call__(self, where: str) -> str:
        value = f"PLMARK-{self.tag}-{where}-9c41"
        self.all.append(value)
        return value


@dataclass
class Call:
    """What one LLM call should become: the span that is kept and the values expected from it."""

    name: str
    span: ReadableSpan
    expected: dict[str, Any]


def _span_hex(span: ReadableSpan) -> tuple[str, str, str | None]:
    ctx = span.get_span_context()
    parent = span.parent.span_id if span.parent is not None else None
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}", f"{parent:016x}" if parent else None


def genai_spans(mark: Markers, start: int = T0) -> tuple[list[ReadableSpan], list[Call]]:
    """Finished spans of four producers' shapes, plus a tool and an HTTP span (not LLM calls); the first
    starts at `start` (nanoseconds since the epoch), the others within the next four minutes."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": "billing-api", "tenant.id": "acme", "deployment.environment": mark("resource")}
        )
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("prodlens.tests")

    # 1. LiteLLM's OpenTelemetry callback: a litellm_request span and its raw_gen_ai_request child
    outer = tracer.start_span("litellm_request", start_time=start)
    outer.set_attributes(
        {
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.system": "openai",
            "gen_ai.usage.prompt_tokens": 1200,
            "gen_ai.usage.completion_tokens": 80,
            "gen_ai.usage.total_tokens": 1280,
            "gen_ai.cost.total_cost": 0.0123,
            "metadata.user_api_key_user_id": "alice@acme.dev",
            "metadata.user_api_key_team_id": "team-web",
            "metadata.user_api_key_hash": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
            "gen_ai.prompt.0.content": mark("litellm-prompt"),
            "gen_ai.completion.0.content": mark("litellm-completion"),
            "llm.user": "alice@acme.dev",
        }
    )
    inner = tracer.start_span(
        "raw_gen_ai_request", context=set_span_in_context(outer), start_time=start + 5 * MS
    )
    inner.set_attributes(
        {"llm.openai.messages": mark("raw-messages"), "llm.openai.choices": mark("raw-choices")}
    )
    inner.end(end_time=start + 900 * MS)
    outer.end(end_time=start + 1000 * MS)

    # 2. hand-made GenAI spans with the current semantic conventions, content in attributes and events
    chat = tracer.start_span("chat claude-sonnet-4-5", start_time=start + 60_000 * MS)
    chat.set_attributes(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.response.model": "claude-sonnet-4-5-20250929",
            "gen_ai.usage.input_tokens": 3000,
            "gen_ai.usage.output_tokens": 250,
            "gen_ai.usage.cache_read.input_tokens": 2000,
            "gen_ai.conversation.id": "conv-42",
            "user.id": "bob@acme.dev",
            "gen_ai.input.messages": json.dumps(
                [{"role": "user", "parts": [{"content": mark("genai-input")}]}]
            ),
            "gen_ai.output.messages": json.dumps(
                [{"role": "assistant", "parts": [{"content": mark("genai-output")}]}]
            ),
            "gen_ai.system_instructions": mark("genai-system"),
            "gen_ai.request.stop_sequences": [mark("array-a"), mark("array-b")],
        }
    )
    chat.add_event(
        "gen_ai.client.inference.operation.details", {"gen_ai.input.messages": mark("event-input")}
    )
    chat.end(end_time=start + 62_500 * MS)

    # 3. a failed call: status ERROR, error.type and HTTP 429
    failed = tracer.start_span("chat gpt-4o-mini", start_time=start + 120_000 * MS)
    failed.set_attributes(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "error.type": "RateLimitError",
            "http.response.status_code": 429,
            "user.id": "bob@acme.dev",
        }
    )
    failed.set_status(Status(StatusCode.ERROR, mark("error-message")))
    failed.record_exception(RuntimeError(mark("exception")))
    failed.end(end_time=start + 120_300 * MS)

    # 4. OpenInference: an LLM span whose attribute names carry the message index, under a CHAIN span
    chain = tracer.start_span("RunnableSequence", start_time=start + 180_000 * MS)
    chain.set_attributes({"openinference.span.kind": "CHAIN", "input.value": mark("chain-input")})
    llm = tracer.start_span("ChatOpenAI", context=set_span_in_context(chain), start_time=start + 180_010 * MS)
    llm.set_attributes(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "llm.provider": "openai",
            "llm.token_count.prompt": 400,
            "llm.token_count.completion": 40,
            "llm.token_count.total": 440,
            "session.id": "sess-oi",
            "user.id": "carol@acme.dev",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": mark("oi-input"),
            "llm.output_messages.0.message.content": mark("oi-output"),
            "input.value": mark("oi-input-value"),
            "output.value": mark("oi-output-value"),
        }
    )
    llm.end(end_time=start + 181_010 * MS)
    # a tool span inside the chain, and the chain itself: not LLM calls
    tool = tracer.start_span(
        "execute_tool search", context=set_span_in_context(chain), start_time=start + 181_100 * MS
    )
    tool.set_attributes(
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.call.arguments": mark("tool-args")}
    )
    tool.end(end_time=start + 181_200 * MS)
    chain.end(end_time=start + 181_300 * MS)

    # 5. plain HTTP: not an LLM call
    http = tracer.start_span("GET /health", start_time=start + 240_000 * MS)
    http.set_attributes({"http.request.method": "GET", "url.full": f"https://example.test/?q={mark('url')}"})
    http.end(end_time=start + 240_005 * MS)

    spans = list(exporter.get_finished_spans())
    by_name = {s.name: s for s in spans}

    def expect(span: ReadableSpan, **values: Any) -> dict[str, Any]:
        trace_id, span_id, parent = _span_hex(span)
        assert span.start_time is not None and span.end_time is not None
        return {
            "request_id": span_id,
            "trace_id": trace_id,
            "parent_span_id": parent,
            "tenant_id": "acme",
            "latency_ms": (span.end_time - span.start_time) / MS,
            **values,
        }

    calls = [
        Call(
            "litellm",
            by_name["litellm_request"],
            expect(
                by_name["litellm_request"],
                model="openai/gpt-4o",
                provider="openai",
                status="success",
                status_code=None,
                error_class=None,
                tokens_in=1200,
                tokens_out=80,
                cache_read_tokens=0,
                proxy_cost_usd=0.0123,
                developer_id="alice@acme.dev",
                session_id=None,
                team_id="team-web",
            ),
        ),
        Call(
            "genai",
            by_name["chat claude-sonnet-4-5"],
            expect(
                by_name["chat claude-sonnet-4-5"],
                model="anthropic/claude-sonnet-4-5-20250929",
                provider="anthropic",
                status="success",
                status_code=None,
                error_class=None,
                tokens_in=3000,
                tokens_out=250,
                cache_read_tokens=2000,
                proxy_cost_usd=None,
                developer_id="bob@acme.dev",
                session_id="conv-42",
                team_id=None,
            ),
        ),
        Call(
            "failed",
            by_name["chat gpt-4o-mini"],
            expect(
                by_name["chat gpt-4o-mini"],
                model="openai/gpt-4o-mini",
                provider="openai",
                status="error",
                status_code=429,
                error_class="RateLimitError",
                tokens_in=0,
                tokens_out=0,
                cache_read_tokens=0,
                proxy_cost_usd=None,
                developer_id="bob@acme.dev",
                session_id=None,
                team_id=None,
            ),
        ),
        Call(
            "openinference",
            by_name["ChatOpenAI"],
            expect(
                by_name["ChatOpenAI"],
                model="openai/gpt-4o",
                provider="openai",
                status="success",
                status_code=None,
                error_class=None,
                tokens_in=400,
                tokens_out=40,
                cache_read_tokens=0,
                proxy_cost_usd=None,
                developer_id="carol@acme.dev",
                session_id="sess-oi",
                team_id=None,
            ),
        ),
    ]
    return spans, calls


# ---------------------------------------------------------------------------------------------- encodings
def _hex_ids(value: Any) -> Any:
    """The protobuf JSON mapping's base64 ids as hex, as OTLP/JSON requires."""
    if isinstance(value, dict):
        return {
            k: (
                base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") and v else _hex_ids(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hex_ids(v) for v in value]
    return value


def otlp_json(message: Any, *, hex_ids: bool = True) -> dict[str, Any]:
    doc = MessageToDict(message)
    return _hex_ids(doc) if hex_ids else doc


def write_forms(spans: list[ReadableSpan], folder: Path) -> dict[str, Path]:
    """The spans in every form: a batch per line, a span per line, a pretty document, console output,
    and a batch with the protobuf mapping's base64 ids."""
    folder.mkdir(parents=True, exist_ok=True)
    half = len(spans) // 2
    batches = [otlp_json(encode_spans(spans[:half])), otlp_json(encode_spans(spans[half:]))]
    whole = otlp_json(encode_spans(spans))
    per_span = [
        span for block in whole["resourceSpans"] for scope in block["scopeSpans"] for span in scope["spans"]
    ]
    paths = {
        "batch_per_line": folder / "collector-file-exporter.jsonl",
        "span_per_line": folder / "span-per-line.jsonl",
        "pretty": folder / "traces.json",
        "console": folder / "console-spans.json",
        "base64_ids": folder / "protobuf-json.jsonl",
    }
    paths["batch_per_line"].write_text("".join(json.dumps(b) + "\n" for b in batches))
    paths["span_per_line"].write_text("".join(json.dumps(s) + "\n" for s in per_span))
    paths["pretty"].write_text(json.dumps(whole, indent=2))
    out = io.StringIO()
    ConsoleSpanExporter(out=out).export(spans)
    paths["console"].write_text(out.getvalue())
    paths["base64_ids"].write_text(json.dumps(otlp_json(encode_spans(spans), hex_ids=False)) + "\n")
    return paths


# ---------------------------------------------------------------------------------------------- logs
def claude_code_logs(mark: Markers) -> dict[str, Any]:
    """Claude Code's events as its monitoring documentation names them, recorded by the SDK's logger."""
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(
        resource=Resource.create({"service.name": "claude-code", "organization.id": "org-7f2"})
    )
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("com.anthropic.claude_code.events")
    common = {"session.id": "cc-sess-1", "user.email": "dana@acme.dev", "user.account_uuid": "uuid-dana"}
    events = [
        (
            "claude_code.api_request",
            {
                "event.name": "api_request",
                "event.timestamp": "2026-11-20T10:00:00.000Z",
                "event.sequence": 1,
                "model": "claude-sonnet-4-5-20250929",
                "cost_usd": 0.0421,
                "duration_ms": 5100,
                "input_tokens": 12,
                "output_tokens": 900,
                "cache_read_tokens": 30000,
                "cache_creation_tokens": 1500,
            },
        ),
        (
            "claude_code.api_error",
            {
                "event.name": "api_error",
                "event.timestamp": "2026-11-20T10:01:00.000Z",
                "event.sequence": 2,
                "model": "claude-sonnet-4-5-20250929",
                "error": mark("api-error-text"),
                "status_code": "529",
                "duration_ms": 800,
                "attempt": 1,
            },
        ),
        (
            "claude_code.user_prompt",
            {
                "event.name": "user_prompt",
                "event.timestamp": "2026-11-20T09:59:00.000Z",
                "event.sequence": 0,
                "prompt_length": 42,
                "prompt": mark("prompt-text"),
            },
        ),
        (
            "claude_code.tool_decision",
            {
                "event.name": "tool_decision",
                "event.timestamp": "2026-11-20T10:00:30.000Z",
                "event.sequence": 3,
                "tool_name": "Edit",
                "decision": "accept",
                "source": "config",
            },
        ),
        (
            "claude_code.tool_result",
            {
                "event.name": "tool_result",
                "event.timestamp": "2026-11-20T10:00:31.000Z",
                "event.sequence": 4,
                "tool_name": "Bash",
                "success": "true",
                "tool_parameters": json.dumps({"bash_command": mark("bash-command")}),
            },
        ),
    ]
    for body, attributes in events:
        logger.emit(LogRecord(timestamp=T0, body=body, attributes={**common, **attributes}, event_name=body))
    # a GenAI content event with its message in a key/value body
    logger.emit(
        LogRecord(
            timestamp=T0,
            body={"role": "user", "content": mark("kvlist-body"), "parts": [mark("kvlist-array")]},
            attributes={"event.name": "gen_ai.user.message"},
        )
    )
    return otlp_json(encode_logs(exporter.get_finished_logs()))


def claude_code_metrics(
    *, temporality: AggregationTemporality = AggregationTemporality.DELTA
) -> dict[str, Any]:
    """Claude Code's code-edit decision and lines-of-code counters, exported as delta (or cumulative) sums."""
    reader = InMemoryMetricReader(preferred_temporality={Counter: temporality})
    provider = MeterProvider(
        metric_readers=[reader],
        resource=Resource.create({"service.name": "claude-code", "organization.id": "org-7f2"}),
    )
    meter = provider.get_meter("com.anthropic.claude_code")
    common = {"session.id": "cc-sess-1", "user.email": "dana@acme.dev"}
    decisions = meter.create_counter("claude_code.code_edit_tool.decision")
    decisions.add(
        2, {**common, "tool_name": "Edit", "decision": "accept", "source": "config", "language": "Python"}
    )
    decisions.add(
        1,
        {**common, "tool_name": "Write", "decision": "reject", "source": "user_reject", "language": "Python"},
    )
    lines = meter.create_counter("claude_code.lines_of_code.count")
    lines.add(120, {**common, "type": "added"})
    lines.add(30, {**common, "type": "removed"})
    tokens = meter.create_counter("claude_code.token.usage")
    tokens.add(900, {**common, "type": "output", "model": "claude-sonnet-4-5-20250929"})
    return otlp_json(encode_metrics(reader.get_metrics_data()))

"""OpenTelemetry records → ProdLens records: OTLP/JSON traces, logs and metrics, single OTLP spans, the SDK's
ConsoleSpanExporter spans, and Claude Code's events and metrics.

`convert(obj)` turns one parsed JSON value into items, one per span, log record or metric data point:
- a `Request`: a flat record in the shape `sql/normalize.sql` reads (the same whitelist), so that the
  vectorised normaliser types, checks and deduplicates it like any LiteLLM line;
- an `Activity`: a coding-agent event (Claude Code's tool decisions, code-edit decisions, lines of code,
  prompt lengths), typed here;
- a `Skip` (not an LLM call: tool, retrieval, HTTP spans; other events and metrics);
- a `Reject` (a dead letter with its reason).

Privacy by construction: only the attributes named in ATTRIBUTES are read, and only when their value is a
scalar. OTLP keeps attribute names as values (`{"key": "gen_ai.input.messages", "value": …}`), so the
whitelist is applied to those names; nothing else of an attribute list, event, body or array is copied.

One LLM call is one row: when a call span's parent is a call span in the same batch (LiteLLM's
`litellm_request` and its `raw_gen_ai_request` child, a framework span around an instrumented client
call), the outer span is kept and takes the fields it lacks from the inner one; the inner one is skipped
as "part of its parent's call". Across batches, staging drops a row whose parent span is a loaded row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from loaders.litellm.credentials import looks_like_credential

# ---------------------------------------------------------------------------------------------- names
# Attribute (and resource attribute) names read from OpenTelemetry data, mapped to the key the flat
# record carries under `attributes` (normalize.sql reads those). Several producers' names for one thing
# map to one key; the first present, in this order, wins.
_ATTRIBUTE_ALIASES: dict[str, tuple[str, ...]] = {
    # model and provider
    "gen_ai.response.model": ("gen_ai.response.model",),
    "gen_ai.request.model": ("gen_ai.request.model",),
    "llm.model_name": ("llm.model_name",),
    "gen_ai.provider.name": ("gen_ai.provider.name",),
    "gen_ai.system": ("gen_ai.system", "llm.system"),
    "llm.provider": ("llm.provider",),
    # tokens: current GenAI names, the previous ones (prompt/completion), OpenInference's
    "gen_ai.usage.input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
    "gen_ai.usage.output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
    "gen_ai.usage.cache_read.input_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
    ),
    "gen_ai.usage.cache_creation.input_tokens": (
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
    ),
    "llm.token_count.prompt": ("llm.token_count.prompt",),
    "llm.token_count.completion": ("llm.token_count.completion",),
    "llm.token_count.total": ("llm.token_count.total", "gen_ai.usage.total_tokens", "llm.usage.total_tokens"),
    "llm.token_count.prompt_details.cache_read": ("llm.token_count.prompt_details.cache_read",),
    "llm.token_count.prompt_details.cache_write": ("llm.token_count.prompt_details.cache_write",),
    # the cost the producer computed (LiteLLM's own price, operator prices included)
    "llm.cost.total": ("gen_ai.cost.total_cost", "gen_ai.usage.cost", "llm.cost.total", "litellm.cost.total"),
    # who, where, which prompt
    "user.id": (
        "user.id",
        "enduser.id",
        "user.email",
        "metadata.user_api_key_user_email",
        "metadata.user_api_key_user_id",
        "llm.user",
    ),
    "session.id": ("session.id", "gen_ai.conversation.id", "metadata.session_id"),
    "repo": ("repo", "repository", "metadata.repo"),
    "prompt_id": ("prompt_id", "metadata.prompt_id"),
    "prompt_version": ("prompt_version", "metadata.prompt_version"),
    "experiment_id": ("experiment_id", "metadata.experiment_id"),
    "variant": ("variant", "metadata.variant"),
    "prod_lens.accepted": ("prod_lens.accepted", "accepted"),
    "prod_lens.diff_ratio": ("prod_lens.diff_ratio", "diff_ratio"),
    "prod_lens.accepted_lines": ("prod_lens.accepted_lines", "accepted_lines"),
}
# Attribute names that go to top-level or `metadata` fields of the flat record.
_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "tenant_id": ("tenant.id", "metadata.tenant_id"),
    "org_id": ("organization.id", "metadata.user_api_key_org_id"),
    "team_id": ("metadata.user_api_key_team_id",),
    "api_key_alias": ("metadata.user_api_key_alias",),
    "api_key_hash": ("metadata.user_api_key_hash",),
    "model_group": ("metadata.model_group",),
    "call_type": ("gen_ai.operation.name", "llm.request.type"),
    "http_status": ("http.response.status_code", "http.status_code"),
    "error_type": ("error.type",),
}
# Read to classify spans, never stored.
_KIND_NAMES = ("openinference.span.kind", "gen_ai.operation.name")

# Claude Code (its monitoring documentation): standard attributes, then event and metric attributes.
_CLAUDE_CODE_NAMES = (
    "event.name",
    "event.timestamp",
    "event.sequence",
    "session.id",
    "user.email",
    "user.account_uuid",
    "user.id",
    "organization.id",
    "tenant.id",
    "repo",
    "model",
    "cost_usd",
    "duration_ms",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "status_code",
    "tool_name",
    "tool",
    "decision",
    "source",
    "language",
    "type",
    "prompt_length",
)

#: Every attribute name ProdLens reads from OpenTelemetry data; all other attributes are never looked at.
ATTRIBUTES: frozenset[str] = frozenset(
    {name for names in _ATTRIBUTE_ALIASES.values() for name in names}
    | {name for names in _FIELD_ALIASES.values() for name in names}
    | set(_KIND_NAMES)
    | set(_CLAUDE_CODE_NAMES)
)

_MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name")
_TOKEN_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "llm.token_count.total",
)
_CALL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings", "completion"})
_NOT_CALL_OPERATIONS = frozenset({"execute_tool", "invoke_agent", "create_agent"})
_CALL_SPAN_KINDS = frozenset({"llm", "embedding"})
#: Span names of LiteLLM's own OpenTelemetry callback: the call, and the raw provider request inside it.
LITELLM_SPAN_NAMES = frozenset({"litellm_request", "raw_gen_ai_request"})


# ---------------------------------------------------------------------------------------------- items
@dataclass
class Request:
    """A flat record for normalize.sql; `index` is the 1-based position of the item in its input value."""

    index: int
    record: dict[str, Any]
    span_id: str | None = None
    parent_span_id: str | None = None


@dataclass
class Activity:
    """A coding-agent event or metric data point (Claude Code), typed."""

    index: int
    row: dict[str, Any]


@dataclass
class Skip:
    index: int
    reason: str


@dataclass
class Reject:
    index: int
    reason: str
    value: Any = None  # the offending item, for its content-free skeleton


Item = Request | Activity | Skip | Reject


@dataclass
class Defaults:
    """Values for records that do not carry them."""

    tenant_pattern: str  # the tenant-id rule (prodlens/names.py), passed by the caller
    tenant: str | None = None


#: The provider of Claude Code's API requests when its events name none.
CLAUDE_CODE_PROVIDER = "anthropic"


# ---------------------------------------------------------------------------------------------- values
def _any_value(value: Any) -> Any:
    """An OTLP AnyValue as a Python scalar; None for arrays, key/value lists, bytes and anything else
    (a whitelisted field must hold a scalar)."""
    if not isinstance(value, dict):
        return None
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            v = value[key]
            return v if isinstance(v, str | bool | int | float) else None
    if "intValue" in value:
        v = value["intValue"]
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, str):
            try:
                return int(v)
            except ValueError:
                return None
    return None


def _plain_scalar(value: Any) -> Any:
    return value if isinstance(value, str | bool | int | float) and value is not None else None


def _usable(value: Any) -> Any:
    """A scalar attribute value, or None when it is text that looks like a credential."""
    return None if isinstance(value, str) and looks_like_credential(value) else value


def otlp_attributes(items: Any) -> dict[str, Any]:
    """The whitelisted scalar attributes of an OTLP key/value list."""
    found: dict[str, Any] = {}
    if not isinstance(items, list):
        return found
    for item in items:
        if isinstance(item, dict):
            key = item.get("key")
            if isinstance(key, str) and key in ATTRIBUTES:
                value = _usable(_any_value(item.get("value")))
                if value is not None:
                    found[key] = value
    return found


def plain_attributes(items: Any) -> dict[str, Any]:
    """The whitelisted scalar attributes of a plain JSON object of attributes (ConsoleSpanExporter)."""
    if not isinstance(items, dict):
        return {}
    found = {k: _usable(_plain_scalar(v)) for k, v in items.items() if k in ATTRIBUTES}
    return {k: v for k, v in found.items() if v is not None}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(attrs: dict[str, Any], names: Iterable[str]) -> Any:
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "":
            return value
    return None


def _hex_id(value: Any, length: int) -> str | None:
    """A trace or span id as lower-case hex: OTLP/JSON's hex, the protobuf JSON mapping's base64, or the
    console exporter's `0x…`. All-zero and empty ids are absent."""
    if not isinstance(value, str) or not value:
        return None
    text = value[2:] if value.startswith("0x") else value
    if len(text) != length * 2 or any(c not in "0123456789abcdefABCDEF" for c in text):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != length:
            return None
        text = raw.hex()
    text = text.lower()
    return None if set(text) == {"0"} else text


def _nanos_to_iso(value: Any) -> str | None:
    """Unix nanoseconds (OTLP sends them as strings) as ISO 8601 UTC with microseconds."""
    try:
        nanos = int(value)
    except (TypeError, ValueError):
        return None
    if nanos <= 0:
        return None
    seconds, rest = divmod(nanos, 1_000_000_000)
    try:
        moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    """ISO 8601 text as an aware UTC datetime between 2000 and 2100 (else a unit or clock error)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment if datetime(2000, 1, 1, tzinfo=UTC) <= moment < datetime(2100, 1, 1, tzinfo=UTC) else None


def _is_error_status(status: Any) -> bool:
    if not isinstance(status, dict):
        return False
    code = status.get("code", status.get("status_code"))
    return code in (2, "2", "STATUS_CODE_ERROR", "ERROR", "StatusCode.ERROR")


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------------------------------------- spans
@dataclass
class _Span:
    index: int
    name: str
    trace_id: str | None
    span_id: str | None
    parent_span_id: str | None
    start: str | None
    end: str | None
    error: bool
    attrs: dict[str, Any]


def _is_call(span: _Span) -> bool:
    kind = str(span.attrs.get("openinference.span.kind", "")).lower()
    operation = str(span.attrs.get("gen_ai.operation.name", "")).lower()
    if operation in _NOT_CALL_OPERATIONS or (kind and kind not in _CALL_SPAN_KINDS):
        return False
    return (
        span.name in LITELLM_SPAN_NAMES
        or operation in _CALL_OPERATIONS
        or kind in _CALL_SPAN_KINDS
        or _first(span.attrs, _MODEL_KEYS) is not None
        or _first(span.attrs, _TOKEN_KEYS) is not None
    )


def _span_record(span: _Span) -> dict[str, Any]:
    """The flat record of a call span (only whitelisted, scalar values)."""
    attrs = span.attrs
    attributes = {
        key: value for key, names in _ATTRIBUTE_ALIASES.items() if (value := _first(attrs, names)) is not None
    }
    fields = {key: _first(attrs, names) for key, names in _FIELD_ALIASES.items()}
    http_status = _int_or_none(fields["http_status"])
    error = span.error or fields["error_type"] is not None or (http_status is not None and http_status >= 400)
    record: dict[str, Any] = {
        "span_id": span.span_id,
        "trace_id": span.trace_id,
        "parent_span_id": span.parent_span_id,
        "start_time": span.start,
        "end_time": span.end,
        # "ok", not "success": a span without an HTTP status gets no status code
        "status": "error" if error else "ok",
        "status_code": http_status,
        "call_type": fields["call_type"],
        "model_group": fields["model_group"],
        "error_information": {"error_class": str(fields["error_type"]) if fields["error_type"] else None},
        "metadata": {
            "tenant_id": fields["tenant_id"],
            "user_api_key_org_id": fields["org_id"],
            "user_api_key_team_id": fields["team_id"],
            "user_api_key_alias": fields["api_key_alias"],
            "user_api_key_hash": fields["api_key_hash"],
        },
        "attributes": attributes,
    }
    return record


def _merge_nested(spans: list[_Span]) -> dict[int, int]:
    """For call spans whose parent is a call span of the same batch: {child index: outermost call index}."""
    by_id = {(s.trace_id, s.span_id): s for s in spans if s.span_id}
    outer: dict[int, int] = {}
    for span in spans:
        parent = by_id.get((span.trace_id, span.parent_span_id)) if span.parent_span_id else None
        seen = {span.index}
        top = None
        while parent is not None and parent.index not in seen:
            seen.add(parent.index)
            top = parent
            parent = by_id.get((parent.trace_id, parent.parent_span_id)) if parent.parent_span_id else None
        if top is not None:
            outer[span.index] = top.index
    return outer


def _span_items(spans: list[_Span]) -> list[Item]:
    calls = [s for s in spans if _is_call(s)]
    call_index = {s.index for s in calls}
    nested = _merge_nested(calls)
    items: list[Item] = [Skip(s.index, "not an LLM call (span)") for s in spans if s.index not in call_index]
    by_index = {s.index: s for s in calls}
    # the outer span takes the attributes it lacks from the spans nested in it (in batch order)
    for child, top in nested.items():
        outer = by_index[top]
        for key, value in by_index[child].attrs.items():
            outer.attrs.setdefault(key, value)
        outer.error = outer.error or by_index[child].error
    for span in calls:
        if span.index in nested:
            items.append(Skip(span.index, "part of its parent's call"))
        else:
            items.append(Request(span.index, _span_record(span), span.span_id, span.parent_span_id))
    return sorted(items, key=lambda item: item.index)


def _otlp_span(index: int, span: dict[str, Any], resource: dict[str, Any]) -> _Span:
    attrs = {**resource, **otlp_attributes(span.get("attributes"))}
    return _Span(
        index=index,
        name=str(span.get("name") or ""),
        trace_id=_hex_id(span.get("traceId"), 16),
        span_id=_hex_id(span.get("spanId"), 8),
        parent_span_id=_hex_id(span.get("parentSpanId"), 8),
        start=_nanos_to_iso(span.get("startTimeUnixNano")),
        end=_nanos_to_iso(span.get("endTimeUnixNano")),
        error=_is_error_status(span.get("status")),
        attrs=attrs,
    )


def _console_span(index: int, span: dict[str, Any]) -> _Span:
    context = _dict(span.get("context"))
    resource = _dict(span.get("resource"))
    attrs = {**plain_attributes(resource.get("attributes")), **plain_attributes(span.get("attributes"))}
    start, end = span.get("start_time"), span.get("end_time")
    return _Span(
        index=index,
        name=str(span.get("name") or ""),
        trace_id=_hex_id(context.get("trace_id"), 16),
        span_id=_hex_id(context.get("span_id"), 8),
        parent_span_id=_hex_id(span.get("parent_id"), 8),
        start=start if isinstance(start, str) else None,
        end=end if isinstance(end, str) else None,
        error=_is_error_status(span.get("status")),
        attrs=attrs,
    )


def _resource_attributes(block: dict[str, Any]) -> dict[str, Any]:
    resource = block.get("resource")
    return otlp_attributes(resource.get("attributes")) if isinstance(resource, dict) else {}


def _children(block: Any, key: str) -> list[Any]:
    value = block.get(key) if isinstance(block, dict) else None
    return value if isinstance(value, list) else []


def _traces(doc: dict[str, Any]) -> list[Item]:
    spans: list[_Span] = []
    rejects: list[Item] = []
    index = 0
    for block in _children(doc, "resourceSpans"):
        resource = _resource_attributes(block) if isinstance(block, dict) else {}
        for scope in _children(block, "scopeSpans") + _children(block, "instrumentationLibrarySpans"):
            for span in _children(scope, "spans"):
                index += 1
                if isinstance(span, dict):
                    spans.append(_otlp_span(index, span, resource))
                else:
                    rejects.append(Reject(index, "OTLP span is not an object", span))
    return sorted(_span_items(spans) + rejects, key=lambda item: item.index)


# ---------------------------------------------------------------------------------------------- logs
def _event_name(record: dict[str, Any], attrs: dict[str, Any]) -> str:
    name = record.get("eventName") or attrs.get("event.name")
    if not name:
        body = _any_value(record.get("body"))
        name = body if isinstance(body, str) else ""
    name = str(name)
    return name.removeprefix("claude_code.")


def _claude_developer(attrs: dict[str, Any]) -> Any:
    return _first(attrs, ("user.email", "user.account_uuid", "user.id"))


def _claude_request(
    index: int, name: str, moment: str | None, attrs: dict[str, Any], trace_id: Any
) -> Request:
    """claude_code.api_request / api_error as a flat LiteLLM-shaped record."""
    session = attrs.get("session.id")
    sequence = attrs.get("event.sequence")
    error = name == "api_error"
    record = {
        "request_id": f"claude_code:{session}:{sequence}" if session and sequence is not None else None,
        "trace_id": trace_id,
        "timestamp": moment,
        "model": attrs.get("model"),
        "custom_llm_provider": attrs.get("gen_ai.system") or CLAUDE_CODE_PROVIDER,
        "call_type": "claude_code",
        "status": "error" if error else "success",
        "status_code": _int_or_none(attrs.get("status_code")),
        "error_information": {"error_class": "claude_code.api_error" if error else None},
        "duration_ms": attrs.get("duration_ms"),
        "response_cost": attrs.get("cost_usd"),
        "session_id": session,
        "developer_id": _claude_developer(attrs),
        "usage": {
            "input_tokens": attrs.get("input_tokens"),
            "output_tokens": attrs.get("output_tokens"),
            "cache_read_input_tokens": attrs.get("cache_read_tokens"),
            "cache_creation_input_tokens": attrs.get("cache_creation_tokens"),
        },
        "metadata": {
            "tenant_id": attrs.get("tenant.id"),
            "user_api_key_org_id": attrs.get("organization.id"),
            "repo": attrs.get("repo"),
        },
    }
    return Request(index, record)


def _activity(
    index: int,
    activity: str,
    moment: str | None,
    attrs: dict[str, Any],
    value: Any,
    defaults: Defaults,
) -> Item:
    when = _parse_time(moment)
    if when is None:
        return Reject(index, "no usable timestamp", attrs)
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or number < 0:
        return Reject(index, f"{activity}: missing or negative value", attrs)
    tenant = str(_first(attrs, ("tenant.id", "organization.id")) or defaults.tenant or "default")
    if not re.fullmatch(defaults.tenant_pattern, tenant):
        return Reject(index, "invalid tenant id", attrs)
    row = {
        "activity": activity,
        "timestamp": when,
        "tenant_id": tenant,
        "developer_id": _claude_developer(attrs),
        "session_id": attrs.get("session.id"),
        "tool_name": _first(attrs, ("tool_name", "tool")),
        "decision": attrs.get("decision"),
        "decision_source": attrs.get("source"),
        "language": attrs.get("language"),
        "line_type": attrs.get("type") if activity == "lines_of_code" else None,
        "value": float(number),
        "sequence": attrs.get("event.sequence"),
    }
    return Activity(index, {k: (str(v) if isinstance(v, bool) else v) for k, v in row.items()})


def _logs(doc: dict[str, Any], defaults: Defaults) -> list[Item]:
    items: list[Item] = []
    index = 0
    for block in _children(doc, "resourceLogs"):
        resource = _resource_attributes(block) if isinstance(block, dict) else {}
        for scope in _children(block, "scopeLogs"):
            for record in _children(scope, "logRecords"):
                index += 1
                if not isinstance(record, dict):
                    items.append(Reject(index, "OTLP log record is not an object", record))
                    continue
                attrs = {**resource, **otlp_attributes(record.get("attributes"))}
                name = _event_name(record, attrs)
                stamp = attrs.get("event.timestamp")
                moment = (
                    stamp
                    if isinstance(stamp, str) and stamp
                    else _nanos_to_iso(record.get("timeUnixNano"))
                    or _nanos_to_iso(record.get("observedTimeUnixNano"))
                )
                if name in ("api_request", "api_error"):
                    items.append(
                        _claude_request(index, name, moment, attrs, _hex_id(record.get("traceId"), 16))
                    )
                elif name == "tool_decision":
                    items.append(_activity(index, "tool_decision", moment, attrs, 1, defaults))
                elif name == "user_prompt":
                    # the prompt's length only: its text (sent with OTEL_LOG_USER_PROMPTS=1) is never read
                    length = _int_or_none(attrs.get("prompt_length"))
                    items.append(_activity(index, "user_prompt", moment, attrs, length, defaults))
                else:
                    items.append(Skip(index, "not an LLM call (log record)"))
    return items


# ---------------------------------------------------------------------------------------------- metrics
_ACTIVITY_METRICS = {
    "claude_code.code_edit_tool.decision": "code_edit_decision",
    "claude_code.lines_of_code.count": "lines_of_code",
}
_CUMULATIVE = (2, "2", "AGGREGATION_TEMPORALITY_CUMULATIVE")


def _metrics(doc: dict[str, Any], defaults: Defaults) -> list[Item]:
    items: list[Item] = []
    index = 0
    for block in _children(doc, "resourceMetrics"):
        resource = _resource_attributes(block) if isinstance(block, dict) else {}
        for scope in _children(block, "scopeMetrics"):
            for metric in _children(scope, "metrics"):
                name = metric.get("name") if isinstance(metric, dict) else None
                activity = _ACTIVITY_METRICS.get(name) if isinstance(name, str) else None
                data = metric.get("sum") if isinstance(metric, dict) else None
                shape = next(
                    (k for k in ("sum", "gauge", "histogram") if isinstance(metric, dict) and k in metric),
                    None,
                )
                points = _children(metric.get(shape) if shape else None, "dataPoints")
                for point in points or [None]:
                    index += 1
                    if activity is None or not isinstance(data, dict):
                        items.append(Skip(index, "not an LLM call (metric)"))
                    elif data.get("aggregationTemporality") in _CUMULATIVE:
                        items.append(
                            Reject(
                                index,
                                f"{name} is a cumulative sum: export delta sums "
                                "(OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta)",
                                point,
                            )
                        )
                    elif not isinstance(point, dict):
                        items.append(Reject(index, "OTLP data point is not an object", point))
                    else:
                        attrs = {**resource, **otlp_attributes(point.get("attributes"))}
                        value = point.get("asInt", point.get("asDouble"))
                        value = _int_or_none(value) if isinstance(value, str) else value
                        moment = _nanos_to_iso(point.get("timeUnixNano"))
                        items.append(_activity(index, activity, moment, attrs, value, defaults))
    return items


# ---------------------------------------------------------------------------------------------- entry
def is_otel(obj: Any) -> bool:
    """True for a value `convert` reads: an OTLP/JSON document, one OTLP span, or a console-exporter span."""
    if not isinstance(obj, dict):
        return False
    if any(k in obj for k in ("resourceSpans", "resourceLogs", "resourceMetrics")):
        return True
    if "spanId" in obj and "traceId" in obj:
        return True
    context = obj.get("context")
    return (
        isinstance(context, dict) and "span_id" in context and "trace_id" in context and "start_time" in obj
    )


def convert(obj: Any, defaults: Defaults) -> list[Item]:
    """The items of one parsed OpenTelemetry JSON value (see `is_otel`), in input order."""
    if not isinstance(obj, dict):
        return [Reject(1, "JSON is not an object", obj)]
    if "resourceSpans" in obj:
        return _traces(obj)
    if "resourceLogs" in obj:
        return _logs(obj, defaults)
    if "resourceMetrics" in obj:
        return _metrics(obj, defaults)
    if "spanId" in obj:
        return _span_items([_otlp_span(1, obj, {})])
    return _span_items([_console_span(1, obj)])


def activity_id(tenant_id: str, row: dict[str, Any]) -> str:
    """The identity of an agent activity row: its tenant and every field that tells two apart."""
    parts: tuple[Any, ...] = (
        tenant_id,
        row.get("activity"),
        row.get("timestamp"),
        row.get("session_id"),
        row.get("developer_id"),
        row.get("sequence"),
        row.get("tool_name"),
        row.get("decision"),
        row.get("decision_source"),
        row.get("language"),
        row.get("line_type"),
        row.get("value"),
    )
    return hashlib.sha1("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()
